"""Benchmarks against a private Dovecot and SMTP server: `python3 tasks.py bench`."""
