"""thinkspeak.data"""
