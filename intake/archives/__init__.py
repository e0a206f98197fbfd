"""Archives and forwarded messages that schools attach, unpacked in memory within limits.

`unpack` opens .zip, .7z, .rar and .eml attachments (and archives nested in them), decodes
the member names Chinese tools write, skips what must not be unpacked and refuses bombs,
encrypted and broken archives with an `ArchiveError` whose message tells the school what to do.
"""
