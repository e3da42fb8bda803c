"""thinkspeak.speech: offline speech engines behind small interfaces (contract §3).

Submodules are imported on demand so that, e.g., the corpus can use TTS without loading Whisper:
``speech.models`` (packaged Whisper-base), ``speech.vad`` (Silero), ``speech.segmenter`` (turn events),
``speech.asr`` (WhisperASR), ``speech.encoder`` (WhisperEncoder), ``speech.tts`` (get_tts, list_voices),
``speech.pool`` (SynthesisPool), ``speech.words`` (Word).
"""
