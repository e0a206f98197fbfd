"""The rules: small checks that read a message's facts and say what they found.

Rules never write, send or read the clock; chain.py runs them in order and turns what they
found into a verdict.
"""
