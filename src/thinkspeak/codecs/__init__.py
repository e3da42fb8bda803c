"""Audio codecs behind one interface (:class:`Codec`): Codec2 (default, no weights), Mimi and SNAC (local
folders). ``get_codec("codec2")``, ``get_codec("mimi:/path/to/folder")``, ``get_codec("snac:/path")``."""

from thinkspeak.codecs.base import Codec, CodecInfo, StreamDecoder, check_codes

NAMES = ("codec2", "mimi", "snac")


def get_codec(spec: str = "codec2") -> Codec:
    """A codec from ``NAME[:PATH]`` (Mimi and SNAC need the PATH of a local model folder)."""
    name, _, path = str(spec).partition(":")
    if name == "codec2":
        if path:
            raise ValueError(f"codec codec2 takes no path, got {spec!r}")
        from thinkspeak.codecs.codec2 import Codec2Codec

        return Codec2Codec()
    if name in ("mimi", "snac"):
        if not path:
            raise ValueError(f"codec {name} needs a local model folder: '{name}:PATH', got {spec!r}")
        if name == "mimi":
            from thinkspeak.codecs.mimi import MimiCodec

            return MimiCodec(path)
        from thinkspeak.codecs.snac import SnacCodec

        return SnacCodec(path)
    raise ValueError(f"codec must be one of {list(NAMES)} (as NAME or NAME:PATH), got {spec!r}")


__all__ = ["NAMES", "Codec", "CodecInfo", "StreamDecoder", "check_codes", "get_codec"]
