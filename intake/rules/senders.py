"""Mail that must never be answered: our own, bounces, auto-replies and thank-you notes.

Answering any of these starts a loop between two robots, or between the bot and a school's
vacation responder (QQ's carries no Auto-Submitted header, so we read its subject and body).
"""

from __future__ import annotations

import re

from intake.domain import Severity
from intake.rules.base import Finding, MessageFacts

_SYSTEM_SENDERS = re.compile(
    r"^(postmaster|mailer-daemon|mail-daemon|10000|newsletter-noreply|no-?reply|donotreply)@",
    re.IGNORECASE,
)
_AUTO_SUBJECT = re.compile(
    r"^\s*(自动回复|自動回覆|自动答复|自動回復|auto[- ]?reply|automatic reply|out of office)",
    re.IGNORECASE,
)
_AUTO_BODY = ("这是来自QQ邮箱的假期自动回复邮件", "這是來自QQ郵箱的假期自動回覆郵件")
_BOUNCE_SUBJECT = re.compile(
    r"退信|undeliver|delivery status notification|delivery failure|returned mail",
    re.IGNORECASE,
)
_THANKS = re.compile(
    r"(已收到|收到了|收到[，,。!！]|收到$|谢谢|感谢|thanks|thank you)", re.IGNORECASE
)


class OwnMail:
    name = "own_mail"

    def check(self, facts: MessageFacts) -> list[Finding]:
        if facts.mail.sender and facts.mail.sender in facts.own_accounts:
            return [Finding(self.name, "own_mail", Severity.IGNORE, {"sender": facts.mail.sender})]
        return []


class Bounce:
    name = "bounce"

    def check(self, facts: MessageFacts) -> list[Finding]:
        mail = facts.mail
        report = mail.content_type.lower().startswith("multipart/report")
        daemon = bool(re.match(r"^(postmaster|mailer-daemon)@", mail.sender, re.IGNORECASE))
        if (
            report
            or (daemon and _BOUNCE_SUBJECT.search(mail.subject))
            or (daemon and "无法发送到" in mail.text)
        ):
            return [Finding(self.name, "bounce", Severity.IGNORE, {"sender": mail.sender})]
        return []


class AutoReply:
    name = "auto_reply"

    def check(self, facts: MessageFacts) -> list[Finding]:
        signal = _auto_reply_signal(facts)
        if signal:
            return [Finding(self.name, "auto_reply", Severity.IGNORE, {"signal": signal})]
        return []


def _auto_reply_signal(facts: MessageFacts) -> str:
    """The first sign that a robot wrote this message, or "" when none is found."""
    mail, headers = facts.mail, facts.mail.headers
    auto_submitted = headers.get("auto-submitted", "no").strip().lower()
    precedence = headers.get("precedence", "").strip().lower()
    checks = (
        (auto_submitted not in ("", "no"), f"Auto-Submitted: {auto_submitted}"),
        (precedence in ("bulk", "junk", "list", "auto_reply"), f"Precedence: {precedence}"),
        ("x-autoreply" in headers or "x-autorespond" in headers, "X-Autoreply"),
        (headers.get("return-path", "x").strip() in ("<>", ""), "empty Return-Path"),
        (bool(_SYSTEM_SENDERS.match(mail.sender)), f"system sender {mail.sender}"),
        (bool(_AUTO_SUBJECT.match(mail.subject)), "auto-reply subject"),
        (mail.text.lstrip().startswith(_AUTO_BODY), "QQ vacation reply body"),
    )
    return next((signal for hit, signal in checks if hit), "")


class Acknowledgement:
    """A school's short "邮件已收到" answer to one of our replies: not a submission."""

    name = "acknowledgement"

    def check(self, facts: MessageFacts) -> list[Finding]:
        mail = facts.mail
        if facts.documents() or mail.links:
            return []
        # Our reply's Message-ID among its references, or (from a responder that drops them)
        # our reply's subject with its receipt number: 【已受理】…（SL21-00012）.
        answers_us = any(".intake@" in ref for ref in mail.references) or bool(
            _OUR_SUBJECT.search(mail.subject)
        )
        words = _own_words(mail.text)
        short_thanks = len(words) <= 80 and bool(_THANKS.search(words))
        if answers_us or (mail.references and short_thanks):
            return [Finding(self.name, "acknowledgement", Severity.IGNORE)]
        return []


_OUR_SUBJECT = re.compile(r"【[^】]{2,12}】.*（[A-Za-z0-9]{1,12}-\d{5,}）")
_QUOTE_START = re.compile(r"^\s*(>|-{3,}|原始邮件|-+\s*Original|在 .* 写道|On .* wrote)")


def _own_words(text: str) -> str:
    """The sender's own lines, above the quoted message they answer."""
    lines = []
    for line in text.strip().splitlines():
        if _QUOTE_START.match(line):
            break
        if line.strip():
            lines.append(line.strip())
    return " ".join(lines)


class DuplicateMessage:
    """The same Message-ID with other bytes: one email seen again (e.g. in both mailboxes)."""

    name = "duplicate"

    def check(self, facts: MessageFacts) -> list[Finding]:
        if facts.same_message_id_as is None:
            return []
        params = {"original": facts.same_message_id_as}
        return [Finding(self.name, "duplicate", Severity.IGNORE, params)]
