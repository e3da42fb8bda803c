"""thinkspeak: real-time spoken dialogue models that think while they speak."""
__version__ = "0.1.0"
