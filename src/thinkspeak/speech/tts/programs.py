"""Running Debian speech programs (espeak-ng, flite, festival) as subprocesses.

They are GPL or BSD programs used through their command lines, never linked, so thinkspeak's own license
is unaffected; the Python process only reads the WAV files they write.
"""

from __future__ import annotations

import shutil
import subprocess

from thinkspeak.speech.tts.base import EngineUnavailable

_TIMEOUT_S = 120.0
_INSTALL_HINT = {
    "espeak-ng": "apt-get install espeak-ng",
    "flite": "apt-get install flite",
    "festival": "apt-get install festival festvox-kallpc16k",
}


def require_program(name: str) -> str:
    """Absolute path of ``name`` on PATH, or :class:`EngineUnavailable` with the install command."""
    path = shutil.which(name)
    if path is None:
        hint = _INSTALL_HINT.get(name, f"install {name}")
        raise EngineUnavailable(f"the {name} program is not on PATH; install it with: {hint}")
    return path


def run_program(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run a program to completion, raising RuntimeError with its stderr when it fails."""
    try:
        done = subprocess.run(
            args,
            input=stdin.encode("utf-8") if stdin is not None else None,
            capture_output=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"{args[0]} did not finish within {_TIMEOUT_S:g} s") from error
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"{' '.join(args[:3])} ... failed with exit code {done.returncode}: {message}")
    return done
