"""thinkspeak.serve: the real-time voice server (OpenAI Realtime subset over WebSocket, browser page).

Modules, in data-flow order (docs/server.md describes the protocol and the design):

* ``app``: the FastAPI app (``/v1/realtime``, ``/``, ``/metrics``, ``/healthz``);
* ``session``: one connection's state machine (turn taking, speculation, barge-in, client events);
* ``protocol`` / ``config`` / ``items``: wire events, the ``session`` object, conversation items on the wire;
* ``listener``: wire pcm16 -> 16 kHz -> server-VAD turn events; ``ratelimit``: flood control;
* ``response``: one answer (think -> chunk -> talk -> paced send); ``chunker``, ``talker``, ``playout``;
* ``thinkers``: the Thinker backends (local Thinker, OpenAI-compatible endpoint);
* ``cancel``: the per-session generation counter; ``threads``: blocking iterators off the event loop;
* ``engines``: the shared VAD/ASR/TTS/Thinker; ``metrics``: per-turn latency, Prometheus.
"""
