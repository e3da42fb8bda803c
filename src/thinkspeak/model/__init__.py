"""thinkspeak.model"""
