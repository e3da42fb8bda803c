"""thinkspeak.text"""
