"""Text-to-speech engines behind one interface (contract §3): piper, espeak-ng, flite, festival.

``get_tts("espeak:en-us+f3:rate=160")`` builds an engine; ``tts.synthesize(text)`` returns a
:class:`Synthesis`; ``tts.stream(text)`` yields float32 chunks, the first after a short clause.
"""

from thinkspeak.speech.tts.align import align_words
from thinkspeak.speech.tts.base import TTS, EngineTTS, EngineUnavailable, Synthesis
from thinkspeak.speech.tts.chunking import split_for_streaming, split_sentences
from thinkspeak.speech.tts.registry import ENGINES, engine_class, get_tts, list_voices, parse_spec
from thinkspeak.speech.tts.spec import Option, VoiceSpec

__all__ = [
    "ENGINES",
    "TTS",
    "EngineTTS",
    "EngineUnavailable",
    "Option",
    "Synthesis",
    "VoiceSpec",
    "align_words",
    "engine_class",
    "get_tts",
    "list_voices",
    "parse_spec",
    "split_for_streaming",
    "split_sentences",
]
