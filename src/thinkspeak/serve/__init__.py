"""thinkspeak.serve"""
