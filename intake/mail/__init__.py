"""Reading raw mail: the message parser and what it finds in bodies."""
