"""thinkspeak.audio"""
