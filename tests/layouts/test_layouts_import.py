"""``import thinkspeak.layouts`` (every layout module and the renderer) stays pure Python."""

import subprocess
import sys

MODULES = ["thinkspeak.layouts", *(f"thinkspeak.layouts.{m}" for m in
                                  ("miniomni", "interleave", "syncllm", "omniflatten", "moshi", "render"))]


def test_layouts_import_no_torch_numpy_or_rich():
    code = (
        f"import sys, {', '.join(MODULES)}\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy', 'rich', 'transformers'))\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
