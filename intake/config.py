"""The TOML configuration: read, validated and turned into typed, frozen settings.

Every key is documented here, where it is declared, and in config.example.toml. A mistake is
reported with the file, the line and the dotted key, because the people who edit this file are
education staff, not programmers. Secrets never live in the file: a mailbox names the
environment variable that holds its authorization code.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from intake.config_lines import line_of

KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
Key = Annotated[str, Field(pattern=KEY_PATTERN)]
# The stage of a campaign that gives one deadline instead of a [stages] table.
ONLY_STAGE = "submission"


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Settings):
    # Any SQLAlchemy URL. Relative sqlite paths are taken from the config file's folder.
    url: str = "sqlite:///var/intake.db"
    # Seconds to wait while another process writes (SQLite busy_timeout, PostgreSQL
    # lock_timeout); after that the poll fails and the message is fetched again by the next.
    busy_timeout: float = Field(default=30, gt=0)
    # Several `intake run` processes on one PostgreSQL database share the work by leases
    # (docs/OPERATIONS.md): one not renewed for this many seconds is taken over by another.
    lease_seconds: int = Field(default=60, ge=10)


class StorageSettings(_Settings):
    # Where raw .eml files and attachments are archived, named by SHA-256.
    archive_dir: str = "var/archive"


class PollingSettings(_Settings):
    # Minutes between two polls in `intake run`. QQ refuses clients that reconnect too often.
    interval_minutes: float = Field(default=5, ge=0.05)
    # Seconds before a silent IMAP or SMTP server is given up on.
    socket_timeout: float = Field(default=60, gt=0)
    # Messages fetched per IMAP FETCH command; bounds memory on large backlogs.
    fetch_batch: int = Field(default=20, ge=1, le=500)
    # In `intake run`, wait in IMAP IDLE on each INBOX when the server offers it, so a new
    # message is answered within seconds; the timed polls go on regardless.
    idle: bool = True


class ReplySettings(_Settings):
    # "smtp" sends replies; "folder" writes them as .eml files into `folder` (a dry trial).
    transport: Literal["smtp", "folder"] = "smtp"
    folder: str = "var/outbox"
    # At most this many replies to one sender per calendar day (campaign time zone).
    max_per_sender_per_day: int = Field(default=5, ge=1)
    # At most this many replies sent per minute, so QQ does not throttle the account.
    max_per_minute: int = Field(default=10, ge=1)
    # A failed send is retried after 1, 2, 4 … minutes, up to this many attempts.
    max_attempts: int = Field(default=8, ge=1)
    # Jinja2 templates; empty means the templates/ folder that ships with intake.
    templates_dir: str = ""
    # At most this many replies per sending account in any 24 hours; the rest wait. QQ
    # accounts stop sending at about 500 a day.
    max_per_day: int = Field(default=400, ge=1)
    # Answer the Reply-To address instead of From. Off: anyone could name a third party there.
    use_reply_to: bool = False


class SizeSettings(_Settings):
    # A message larger than this (MB, as the server counts it) is not downloaded: its header
    # is recorded and the school is asked to send the big files as 超大附件 instead.
    max_message_mb: int = Field(default=80, ge=1)
    # An attachment larger than this (MB) is refused without being opened.
    max_attachment_mb: int = Field(default=64, ge=1)

    @property
    def max_message_bytes(self) -> int:
        return self.max_message_mb * 1024 * 1024

    @property
    def max_attachment_bytes(self) -> int:
        return self.max_attachment_mb * 1024 * 1024


class LargeFileSettings(_Settings):
    # What to do with a file sent as a QQ 超大附件 link instead of an attachment:
    # "ask" keeps nothing and asks the school to send it as an attachment (QQ's links often
    # open a web page that needs a login); "download" takes the link as the file and fetches
    # it in the background, telling the school if that fails.
    mode: Literal["ask", "download"] = "ask"
    # Seconds a silent download server is waited for, and the largest file taken, in MB.
    timeout: float = Field(default=60, gt=0)
    max_mb: int = Field(default=2048, ge=1)
    # A download that fails for a passing reason is retried this many times.
    max_attempts: int = Field(default=5, ge=1)


class ArchiveSettings(_Settings):
    # Limits on unpacking .zip, .7z, .rar and attached .eml: members in all, megabytes
    # unpacked in all, the ratio of unpacked to packed size above which an archive is taken
    # for a zip bomb, and how deep archives may nest (2 = one archive inside the attached one).
    max_members: int = Field(default=200, ge=1)
    max_total_mb: int = Field(default=200, ge=1)
    max_ratio: float = Field(default=200, gt=1)
    max_depth: int = Field(default=2, ge=1)


class MailboxSettings(_Settings):
    # The QQ account, e.g. "1036303270@qq.com": login name, envelope sender and From.
    account: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    # Name shown in the From header of replies.
    display_name: str = ""
    # NAME of the environment variable holding the 16-letter authorization code (授权码),
    # or the absolute path of a file holding it that only its owner may read (chmod 600).
    auth_env: str = Field(default="", pattern=r"^$|^[A-Za-z_][A-Za-z0-9_]*$")
    auth_file: str = Field(default="", pattern=r"^$|^/")
    imap_host: str = "imap.qq.com"
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_tls: bool = True  # implicit TLS, as imap.qq.com requires
    smtp_host: str = "smtp.qq.com"
    smtp_port: int = Field(default=465, ge=1, le=65535)
    smtp_tls: bool = True  # implicit TLS (port 465); false means plain SMTP
    # A CA bundle to verify the servers with; empty means the system's trusted CAs.
    ca_file: str = ""
    # Folders polled, in this order. Mail from unknown senders can land in Junk.
    folders: tuple[str, ...] = ("INBOX", "Junk")

    @model_validator(mode="after")
    def _one_code_source(self) -> MailboxSettings:
        if bool(self.auth_env) == bool(self.auth_file):
            raise ValueError("give either auth_env (an environment variable) or auth_file")
        return self

    @property
    def code_source(self) -> str:
        return f"${self.auth_env}" if self.auth_env else self.auth_file

    def auth_code(self) -> str:
        """The authorization code from the environment or its file; never stored or logged."""
        if self.auth_file:
            return _code_from_file(Path(self.auth_file), self.account)
        code = os.environ.get(self.auth_env, "")
        if not code:
            raise ConfigError(
                f"环境变量 {self.auth_env} 未设置：请把邮箱 {self.account} 的授权码放进该变量"
                f" (environment variable {self.auth_env} is not set)"
            )
        return code


def _code_from_file(path: Path, account: str) -> str:
    """The code in a file that nobody but its owner (this user) can read or change."""
    try:
        info = path.stat()
        if info.st_mode & 0o077 or info.st_uid != os.getuid():
            raise ConfigError(
                f"授权码文件 {path} 其他用户也能读取：请执行 chown $(whoami) {path} && "
                f"chmod 600 {path} (the file must be readable by its owner only)"
            )
        code = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ConfigError(
            f"无法读取授权码文件 {path}（邮箱 {account}）：{error.strerror}"
        ) from error
    if not code:
        raise ConfigError(f"授权码文件 {path} 是空的：请把邮箱 {account} 的授权码写进去")
    return code


class GroupSettings(_Settings):
    # How the group is named in replies and the digest, e.g. "小学组".
    label: str
    # The organizer who receives this group's mail, named in replies.
    contact: str = ""
    mailbox: MailboxSettings


class ColumnSettings(_Settings):
    # The header as the notice prints it, e.g. "联系电话".
    name: str = Field(min_length=1)
    # Other headers schools write for the same column, e.g. ["手机", "手机号"].
    aliases: tuple[str, ...] = ()
    # A row without this cell is not registered.
    required: bool = False
    # The only values allowed, e.g. the notice's 类别 list; empty allows any.
    allowed: tuple[str, ...] = ()
    # "phone" (mobile or landline), "mobile" or "qq"; empty checks nothing.
    format: Literal["", "phone", "mobile", "qq"] = ""
    # A running number such as 序号: a row holding only this is an unused template row.
    counter: bool = False
    # What intake reads from the column: a case's "title", the "unit" (单位) or "district" (区域).
    role: Literal["", "title", "unit", "district"] = ""


class KindSettings(_Settings):
    # How the kind is named in replies, e.g. "报告".
    label: str
    # The stage this kind belongs to (a key of the campaign's stages); may be left out when the
    # campaign has one stage.
    stage: str = ""
    # The file name the notice asks for; {school} stands for the school's name.
    name_pattern: str = Field(default="", pattern=r"^$|\{school\}")
    # Words in a file name (or, for a single file, the subject) that mark this kind, for kinds
    # the notice gives no file name for, e.g. ["联络人", "负责人信息"].
    keywords: tuple[str, ...] = ()
    # A document no other kind claims is this kind (e.g. the finished case of the last stage).
    fallback: bool = False
    # The full title of the item in the notice, quoted in replies.
    title: str = ""
    # A school that never sends a required kind is listed as missing.
    required: bool = False
    # How many distinct files of this kind one school may hold; 0 means no limit.
    max_per_school: int = Field(default=1, ge=0)
    # When a school already holds max_per_school files: "supersede" makes the newest a new
    # version of the one it holds (only for max_per_school = 1); "reject" refuses it.
    when_full: Literal["supersede", "reject"] = "reject"
    # Limits checked in the document itself; 0 means no limit.
    max_signatories: int = Field(default=0, ge=0)
    max_chars: int = Field(default=0, ge=0)
    # A registration table: its columns; each good row is recorded as `records`.
    columns: tuple[ColumnSettings, ...] = ()
    records: Literal["", "contact", "case"] = ""
    # A kind whose files are matched by title to the cases registered through this other kind.
    registered_in: str = ""

    @model_validator(mode="after")
    def _identifiable(self) -> KindSettings:
        if not (self.name_pattern or self.keywords or self.columns or self.fallback):
            raise ValueError("give name_pattern, keywords, columns or fallback = true")
        if self.columns and not self.records:
            raise ValueError('a table kind needs records = "contact" or "case"')
        if self.columns and self.fallback:
            raise ValueError("a table kind cannot also be the fallback for other documents")
        roles = [column.role for column in self.columns if column.role]
        if len(roles) != len(set(roles)):
            raise ValueError("two columns have the same role")
        if self.records == "case" and "title" not in roles:
            raise ValueError('a table of cases needs a column with role = "title"')
        return self


FORMAT_CHECKS = ("font", "size", "margins", "length", "signatories")


class FormatSettings(_Settings):
    # The East Asian font every paragraph must use, e.g. "宋体"; empty checks no font.
    font: str = ""
    # Sizes in points (小二 = 18, 小四 = 12) of the title, the unit/author line and the body;
    # 0 checks no size.
    title_size: float = Field(default=0, ge=0)
    author_size: float = Field(default=0, ge=0)
    body_size: float = Field(default=0, ge=0)
    # Page margins in cm on all four sides, and how far off still passes; 0 checks none.
    margin_cm: float = Field(default=0, ge=0)
    margin_tolerance_cm: float = Field(default=0.1, ge=0)
    # Which checks refuse the file; the others only warn. Checks: font, size, margins,
    # length (a kind's max_chars) and signatories (a kind's max_signatories).
    reject: tuple[Literal["font", "size", "margins", "length", "signatories"], ...] = (
        "length",
        "signatories",
    )


class DigestSettings(_Settings):
    # Who gets the organizers' daily digest; empty sends none (`intake digest --preview` still
    # shows it).
    recipients: tuple[str, ...] = ()
    # When it is sent, local time of the campaign, "HH:MM".
    time: str = Field(default="07:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class StageSettings(_Settings):
    # The stage's name in replies, e.g. "选题申报".
    label: str
    # Last day accepted, inclusive, in the campaign's time zone.
    deadline: date
    # Minutes after the end of the deadline day still accepted (0 = none).
    grace_minutes: int = Field(default=0, ge=0)


class LimitSettings(_Settings):
    # The kind whose registered rows (or files) are counted.
    kind: Key
    # Counted for each "unit" (school, directly-run school, county) or each "district" (区域).
    per: Literal["unit", "district"] = "unit"
    # Only rows of units at this level: "school", "district" (the county itself), "direct"
    # (a school run directly by the city); empty counts every row.
    level: Literal["", "school", "district", "direct"] = ""
    # Rows beyond `max` are not registered and the reply names those kept; 0 = no maximum.
    max: int = Field(default=0, ge=0)
    # Fewer than `min` is not refused but shown to organizers until fixed; 0 = no minimum.
    min: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> LimitSettings:
        if not (self.max or self.min):
            raise ValueError("give max, min or both")
        if self.max and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class CampaignSettings(_Settings):
    # The competition's full name, used in replies.
    name: str
    # Who runs it, signed under replies.
    organizer: str = ""
    # Short prefix of receipt numbers, e.g. "SL21" gives "SL21-0042".
    receipt_prefix: str = Field(pattern=r"^[A-Za-z0-9]{1,12}$")
    timezone: str = "Asia/Shanghai"
    # A campaign with one stage may give its deadline here instead of a [stages] table: the
    # last day on which submissions are accepted, inclusive, in the campaign's time zone.
    deadline: date | None = None
    # Minutes after the end of that deadline day still accepted (0 = none).
    grace_minutes: int = Field(default=0, ge=0)
    # Stages in order, each with its own deadline.
    stages: dict[Key, StageSettings] = Field(default_factory=dict)
    # Optional CSV roster (school, group, senders); relative to the config file.
    roster: str = ""
    groups: dict[Key, GroupSettings] = Field(min_length=1)
    kinds: dict[Key, KindSettings] = Field(min_length=1)
    # Counts across units and districts, e.g. at most 3 school cases per county.
    limits: tuple[LimitSettings, ...] = ()
    # How submitted Word documents must be laid out.
    format: FormatSettings = FormatSettings()
    # The organizers' daily digest.
    digest: DigestSettings = DigestSettings()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}, e.g. Asia/Shanghai") from error
        return value

    @model_validator(mode="after")
    def _stages_and_kinds_agree(self) -> CampaignSettings:
        if self.deadline is None and not self.stages:
            raise ValueError("give the deadline, or a [stages] table with one per stage")
        if self.deadline is not None and self.stages:
            raise ValueError("give either deadline (one stage) or a [stages] table, not both")
        deadlines = [stage.deadline for stage in self.stages.values()]
        if deadlines != sorted(deadlines):
            raise ValueError("list the stages in the order of their deadlines")
        stage_keys = set(self.stages) or {ONLY_STAGE}
        for key, kind in self.kinds.items():
            if kind.stage and kind.stage not in stage_keys:
                raise ValueError(f"kinds.{key}.stage: no stage {kind.stage!r}")
            if not kind.stage and len(stage_keys) > 1:
                raise ValueError(f"kinds.{key}.stage: say which stage this kind belongs to")
            _check_registered_in(self.kinds, key, kind)
        if sum(1 for kind in self.kinds.values() if kind.fallback) > 1:
            raise ValueError("only one kind may have fallback = true")
        for limit in self.limits:
            _check_limit(self.kinds, limit)
        return self


def _check_registered_in(kinds: dict[str, KindSettings], key: str, kind: KindSettings) -> None:
    target = kinds.get(kind.registered_in) if kind.registered_in else None
    if kind.registered_in and (target is None or target.records != "case" or target is kind):
        raise ValueError(
            f"kinds.{key}.registered_in: {kind.registered_in!r} is not a table of cases"
        )


def _check_limit(kinds: dict[str, KindSettings], limit: LimitSettings) -> None:
    """Limits count registered rows, so they need a table kind with the columns they use."""
    kind = kinds.get(limit.kind)
    if kind is None or not kind.columns:
        raise ValueError(f"limits: {limit.kind!r} is not a registration table (kinds with columns)")
    roles = {column.role for column in kind.columns}
    if limit.per == "district" and "district" not in roles:
        raise ValueError(
            f'limits: per = "district" needs a column with role = "district" in {limit.kind!r}'
        )


class Settings(_Settings):
    database: DatabaseSettings = DatabaseSettings()
    storage: StorageSettings = StorageSettings()
    polling: PollingSettings = PollingSettings()
    replies: ReplySettings = ReplySettings()
    large_files: LargeFileSettings = LargeFileSettings()
    archives: ArchiveSettings = ArchiveSettings()
    sizes: SizeSettings = SizeSettings()
    campaigns: dict[Key, CampaignSettings] = Field(min_length=1)


class ConfigError(Exception):
    """A configuration that cannot be used, with a message that says what to change."""


class Config:
    """Validated settings plus the folder they were read from, to resolve relative paths."""

    def __init__(self, settings: Settings, base_dir: Path, source: Path | None = None) -> None:
        self.settings = settings
        self.base_dir = base_dir
        self.source = source

    def path(self, value: str) -> Path:
        """A path from the config, relative ones taken from the config file's folder."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def database_url(self) -> str:
        url = self.settings.database.url
        match = re.match(r"^(sqlite(?:\+\w+)?:///)(?!/)(.+)$", url)
        if match and match.group(2) != ":memory:":
            return match.group(1) + str(self.path(match.group(2)))
        return url


def load_config(path: Path, adjust: Callable[[dict[str, Any]], None] | None = None) -> Config:
    """Read and validate a TOML file; raise ConfigError naming the file, line and key.

    `adjust` may change the parsed data before validation (the demo points it at samples/).
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ConfigError(f"无法读取配置文件 {path}: {error.strerror}") from error
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: TOML 语法错误 (syntax error): {error}") from error
    if adjust is not None:
        adjust(data)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_explain(error, path, text)) from error
    config = Config(settings, path.resolve().parent, path)
    _check_mailboxes(config, path, text)
    return config


def _explain(error: ValidationError, path: Path, text: str) -> str:
    lines = []
    for problem in error.errors():
        keys = [str(part) for part in problem["loc"]]
        line = line_of(text, keys)
        where = f"{path}:{line}" if line else str(path)
        lines.append(f"{where}: {'.'.join(keys)}: {problem['msg']}")
    return "配置有误 (invalid configuration):\n" + "\n".join(lines)


def _check_mailboxes(config: Config, path: Path, text: str) -> None:
    """One account may serve only one group: its mail would otherwise be judged twice."""
    seen: dict[str, str] = {}
    for campaign_id, campaign in config.settings.campaigns.items():
        for group_id, group in campaign.groups.items():
            owner = f"{campaign_id}/{group_id}"
            account = group.mailbox.account.lower()
            if account in seen:
                keys = ["campaigns", campaign_id, "groups", group_id, "mailbox", "account"]
                line = line_of(text, keys)
                raise ConfigError(
                    f"{path}:{line}: {'.'.join(keys)}: 邮箱 {account} 已用于 {seen[account]}"
                    " (one mailbox can serve only one group)"
                )
            seen[account] = owner
