"""thinkspeak.decode"""
