"""thinkspeak.speech"""
