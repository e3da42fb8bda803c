"""thinkspeak.eval"""
