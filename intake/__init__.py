"""intake: receives competition submissions from QQ Mail, decides, records and replies."""

__version__ = "0.1.0"
