"""thinkspeak.serve: the real-time voice server (OpenAI Realtime subset over WebSocket, browser page).

One session is one pipeline of stages with typed frames between them (docs/server.md draws it):

* ``transport`` (+ ``app``, ``security``, ``protocol``): Realtime events in and out, auth and Origin checks;
* ``listener``: wire pcm16 -> 16 kHz -> VAD speech frames (``frames``); ``audio``: the rates and resampler;
* ``turns``: the turn state machine (speech frames -> actions); ``detectors``: how much silence ends a turn;
* ``session``: carries the actions out (one per connection); ``conversation`` / ``items``: its items;
* ``hearing``: ASR transcripts (a queue fair between sessions) or audio into the Thinker;
* ``response``: one answer, joining ``thinkers`` (the Thinker backends) -> ``talker`` -> ``playout``, and a
  session's ``Responses`` (the live one, cancel tokens, held output, playback);
* ``registry``: stages by name; ``cancel``: cancel tokens; ``threads``: blocking iterators off the loop;
* ``engines``: what sessions share; ``config``: session and server settings; ``ratelimit``, ``metrics``.
"""
