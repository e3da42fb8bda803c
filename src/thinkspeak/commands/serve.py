"""``thinkspeak serve``: the real-time voice server (OpenAI Realtime subset over WebSocket + browser page)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the real-time voice server (WebSocket /v1/realtime, browser page at /)",
        description="Serve a Thinker as a real-time voice agent speaking a subset of the OpenAI Realtime "
                    "protocol; see docs/server.md.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="TCP port (default 8765)")
    thinker = parser.add_mutually_exclusive_group()
    thinker.add_argument("--model", metavar="PATH", default=None,
                         help="a thinkspeak Thinker folder or packaged name: default, tools (the Thinker with tool calls; "
                              "`make demo` uses it); default: the shipped default Thinker")
    thinker.add_argument("--qwen", metavar="PATH", default=None,
                         help="any local Qwen2/Qwen2.5 Hugging Face folder as the Thinker")
    thinker.add_argument("--openai-base-url", metavar="URL", default=None,
                         help="an OpenAI-compatible chat endpoint, e.g. http://127.0.0.1:8000/v1")
    parser.add_argument("--openai-model", metavar="NAME", default=None, help="model name at --openai-base-url")
    parser.add_argument("--openai-api-key-env", metavar="VAR", default="OPENAI_API_KEY",
                        help="environment variable holding the endpoint's API key (default OPENAI_API_KEY)")
    parser.add_argument("--index", default=None, metavar="DIR",
                        help="a local Thinker with tool tokens: retrieval index of its retrieve tool (default: the "
                             "shipped fact base)")
    parser.add_argument("--search", default=None, metavar="PROVIDER",
                        help="a local Thinker with tool tokens: web search provider (searxng, brave or serper)")
    parser.add_argument("--no-tools", action="store_true", help="do not let a Thinker with tool tokens call tools")
    hearing = parser.add_mutually_exclusive_group()
    hearing.add_argument("--asr", dest="hearing", action="store_const", const="asr",
                         help="hear by ASR: Whisper-base transcripts into the Thinker (default)")
    hearing.add_argument("--e2e", dest="hearing", action="store_const", const="e2e",
                         help="hear end to end: Whisper encoder features into the Thinker's audio adapter")
    parser.set_defaults(hearing="asr")
    parser.add_argument("--asr-window", metavar="auto|full|SECONDS", type=asr_window, default="auto",
                        help="Whisper encoder window for ASR: auto (default) sizes a short window to each utterance "
                             "(its length + 1 s, at least 5 s), SECONDS a fixed short one, full faster-whisper's "
                             "padded 30 s window (slower by ~1 s per turn on 2 cores; docs/server.md)")
    parser.add_argument("--tts", default="piper",
                        help="TTS spec for thinkspeak.speech.tts.get_tts: piper (default), "
                             "espeak:en-us+f3:rate=160, flite:slt, ...")
    parser.add_argument("--silence-ms", type=int, default=None,
                        help="default silence_duration_ms of server VAD (protocol default 500)")
    parser.add_argument("--turn-detection", choices=["server_vad", "semantic_vad"], default=None,
                        help="sessions' default turn detection (clients may change it with session.update): "
                             "server_vad ends a turn after a fixed silence; semantic_vad after a silence that "
                             "depends on whether the utterance sounds finished (default server_vad, or "
                             "semantic_vad with --turn-model)")
    parser.add_argument("--turn-model", default=None, metavar="MODEL",
                        help="what judges a pause under semantic_vad (turn_detection.turn_model): rule (the words, "
                             "default), smart-turn (Pipecat's Smart Turn v3.2 on the audio; needs pip install "
                             "--no-deps pipecat-ai==1.14.0), learned (thinkspeak's head on Whisper features, "
                             "which also tells backchannels and coughs from interruptions), duplex (the "
                             "full-duplex Thinker's probability of speaking next), or an audio model and the rule "
                             "together (learned+rule, smart-turn+rule: the longer of their silences); docs/server.md")
    parser.add_argument("--duplex", action="store_true",
                        help="full-duplex mode: the full-duplex Thinker hears the user continuously and decides when "
                             "to take the floor, when to yield and when a sound is a backchannel (turn_detection type "
                             "duplex; no fixed silence ends a turn; --eagerness sets its threshold); docs/server.md")
    parser.add_argument("--barge-in-verdict-ms", type=int, default=800, metavar="MS",
                        help="a turn model that tells backchannels from interruptions (learned, duplex) judges a "
                             "barge-in on its first MS of voiced speech if no pause came first (default 800; 0: "
                             "only at its first pause)")
    parser.add_argument("--eagerness", choices=["low", "medium", "high", "auto"], default="auto",
                        help="semantic_vad eagerness (default auto = medium)")
    parser.add_argument("--talker", default="tts",
                        help="the talker stage, a name registered in thinkspeak.serve.talker.TALKERS: tts (default: "
                             "the --tts engine voicing text chunks) or tokens (the audio-token Talker, Codec2; "
                             "experimental, not yet intelligible: docs/talker.md)")
    parser.add_argument("--max-sessions", type=int, default=64, help="concurrent sessions held (default 64)")
    parser.add_argument("--max-prompt-tokens", type=int, default=2048,
                        help="tokens a turn may send the Thinker; older history is dropped first (default 2048)")
    parser.add_argument("--api-key", default=None,
                        help="clients must present this key (Bearer, or the openai-insecure-api-key.KEY subprotocol); "
                             "default $THINKSPEAK_API_KEY; required when --host is not a loopback address")
    parser.add_argument("--allow-origin", action="append", default=None, metavar="ORIGIN",
                        help="a browser Origin allowed to connect, e.g. https://app.example (repeatable; '*' for any; "
                             "default: only the server's own page)")
    parser.add_argument("--docs", action="store_true", help="serve /docs, /redoc and /openapi.json (off by default)")
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    parser.set_defaults(func=handle)


def asr_window(text: str) -> str | float | None:
    """``--asr-window``: "auto", "full" (None: faster-whisper's padded 30 s window) or seconds in [1, 30]."""
    if text in ("auto", "full"):
        return None if text == "full" else text
    from thinkspeak.speech.asr import MAX_WINDOW_S

    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 1.0 <= seconds <= MAX_WINDOW_S:
        raise argparse.ArgumentTypeError(f"expected auto, full or seconds in [1, {MAX_WINDOW_S:g}], got {text!r}")
    return seconds


def turn_detection(args: argparse.Namespace):
    """The sessions' default :class:`~thinkspeak.serve.config.TurnDetection`, its detector built (and a turn model
    loaded) now, so a missing model is reported before the server starts."""
    from thinkspeak.serve.config import TurnDetection
    from thinkspeak.serve.detectors import TURN_MODELS

    kind = args.turn_detection or ("semantic_vad" if args.turn_model else "server_vad")
    if getattr(args, "duplex", False):
        if args.turn_detection is not None or args.turn_model is not None or args.silence_ms is not None:
            raise ValueError("--duplex decides turns with the full-duplex model; drop --turn-detection, --turn-model "
                             "and --silence-ms (tune it with --eagerness)")
        turn = TurnDetection(type="duplex", eagerness=args.eagerness)
    elif kind == "semantic_vad":
        if args.silence_ms is not None:
            raise ValueError("--silence-ms applies to --turn-detection server_vad only; semantic_vad is tuned by "
                             "--eagerness")
        model = args.turn_model or "rule"
        TURN_MODELS.get(model)  # ValueError naming the choices
        turn = TurnDetection(type="semantic_vad", eagerness=args.eagerness, turn_model=model)
    else:
        if args.turn_model is not None:
            raise ValueError(f"--turn-model {args.turn_model} needs --turn-detection semantic_vad; server_vad ends a "
                             "turn after a fixed silence")
        turn = TurnDetection() if args.silence_ms is None else TurnDetection(silence_duration_ms=args.silence_ms)
    turn.detector  # noqa: B018 -- load the turn model now: a missing one is an error before serving
    return turn


def build_thinker(args: argparse.Namespace):
    """The Thinker backend the arguments name (from :data:`thinkspeak.serve.thinkers.THINKERS`)."""
    import os

    from thinkspeak.serve.thinkers import THINKERS

    if args.openai_base_url:
        if not args.openai_model:
            raise ValueError("--openai-model is required with --openai-base-url")
        if args.index or args.search:
            raise ValueError("--index and --search give tools to a local Thinker; an endpoint runs its own")
        return THINKERS.create("openai", base_url=args.openai_base_url, model=args.openai_model,
                               api_key=os.environ.get(args.openai_api_key_env))
    if args.openai_model:
        raise ValueError("--openai-model needs --openai-base-url")
    path = args.qwen or args.model
    if path is None:
        from thinkspeak.model.thinker import DEFAULT_DIR

        if not (DEFAULT_DIR / "config.json").is_file():
            raise ValueError(f"the shipped default Thinker is missing ({DEFAULT_DIR}); train one with "
                             "`thinkspeak train` or pass --model PATH, --qwen PATH or --openai-base-url URL")
    return THINKERS.create("local", path=path, hears_audio=args.hearing == "e2e", tools=not args.no_tools,
                           index=args.index, search=args.search)


def handle(args: argparse.Namespace) -> int:
    import logging
    import os
    from dataclasses import replace

    import uvicorn

    from thinkspeak.serve.app import create_app
    from thinkspeak.serve.config import ServerConfig, ServerLimits, SessionConfig
    from thinkspeak.serve.engines import load_engines
    from thinkspeak.serve.security import is_loopback

    if not 0 < args.port < 65536:
        raise ValueError(f"--port must be in 1..65535, got {args.port}")
    api_key = args.api_key or os.environ.get("THINKSPEAK_API_KEY") or None
    if api_key is None and not is_loopback(args.host):
        raise ValueError(f"--host {args.host} is reachable from other machines: set --api-key (or "
                         "$THINKSPEAK_API_KEY) so that only your clients can use the server")
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.barge_in_verdict_ms < 0:
        raise ValueError(f"--barge-in-verdict-ms must be >= 0 (0: judge barge-ins at their first pause only), "
                         f"got {args.barge_in_verdict_ms}")
    turn = turn_detection(args)
    server = ServerConfig(session=SessionConfig(turn_detection=turn), barge_in_verdict_ms=args.barge_in_verdict_ms,
                          limits=replace(ServerLimits(), max_sessions=args.max_sessions,
                                         max_prompt_tokens=args.max_prompt_tokens),
                          api_key=api_key, docs=args.docs,
                          allowed_origins=tuple(args.allow_origin) if args.allow_origin else None)
    engines = load_engines(thinker=build_thinker(args), hearing=args.hearing, tts=args.tts, talker=args.talker,
                           asr_window=args.asr_window)
    app = create_app(engines, server)
    host = "localhost" if args.host in ("127.0.0.1", "0.0.0.0", "::") else args.host
    page = f"http://{host}:{args.port}/" + ("#key=YOUR_API_KEY" if api_key else "")
    print(f"thinkspeak serve: Thinker {engines.thinker.name}; open {page} "
          f"(Realtime WebSocket ws://{host}:{args.port}/v1/realtime)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, ws_max_size=4 * (1 << 20))
    return 0
