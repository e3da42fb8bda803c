"""thinkspeak.train"""
