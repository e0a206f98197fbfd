"""Mail intake writes for organizers (the digest, alerts): from a mailbox account, marked as
written by a program so that no robot answers it (RFC 3834)."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid


def organizer_mail(
    display: str, sender: str, recipient: str, subject: str, now: datetime, tag: str, text: str
) -> tuple[EmailMessage, str]:
    """The plain-text message and its Message-ID (without angle brackets)."""
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((display, sender))
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message_id = make_msgid(tag, sender.rpartition("@")[2])
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, charset="utf-8", cte="base64")
    return message, message_id.strip("<>")
