"""A campaign as the other layers see it: its settings, its roster, its stages and deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from intake.campaigns.roster import Roster, load_roster
from intake.config import (
    ONLY_STAGE,
    CampaignSettings,
    Config,
    GroupSettings,
    KindSettings,
    LimitSettings,
)


@dataclass(frozen=True)
class Stage:
    """One step of a campaign with its own deadline (e.g. 选题申报 by 2022-02-21)."""

    key: str
    label: str
    deadline: date
    grace_minutes: int
    zone: ZoneInfo

    def closes_at(self) -> datetime:
        """The first instant no longer accepted: midnight after the deadline day, plus grace."""
        day_after = self.deadline + timedelta(days=1)
        midnight = datetime.combine(day_after, time(0), tzinfo=self.zone)
        return midnight + timedelta(minutes=self.grace_minutes)

    def is_open(self, moment: datetime) -> bool:
        return moment < self.closes_at()


@dataclass(frozen=True)
class Campaign:
    id: str
    settings: CampaignSettings
    roster: Roster

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    @property
    def kinds(self) -> dict[str, KindSettings]:
        return self.settings.kinds

    def group(self, key: str) -> GroupSettings:
        return self.settings.groups[key]

    def name_patterns(self) -> dict[str, str]:
        return {key: kind.name_pattern for key, kind in self.kinds.items() if kind.name_pattern}

    def stages(self) -> list[Stage]:
        """The stages in the order the configuration lists them."""
        settings = self.settings
        if settings.deadline is not None:
            return [
                Stage(ONLY_STAGE, "材料报送", settings.deadline, settings.grace_minutes, self.zone)
            ]
        return [
            Stage(key, stage.label, stage.deadline, stage.grace_minutes, self.zone)
            for key, stage in settings.stages.items()
        ]

    def stage(self, key: str) -> Stage:
        return next(stage for stage in self.stages() if stage.key == key)

    def stage_of(self, kind: str) -> Stage:
        """The stage a kind of file is sent in."""
        key = self.kinds[kind].stage
        return self.stage(key) if key else self.stages()[0]

    def stage_at(self, moment: datetime) -> Stage:
        """The stage open at a moment: the first whose deadline has not passed, else the last."""
        stages = self.stages()
        return next((stage for stage in stages if stage.is_open(moment)), stages[-1])

    def limits(self, kind: str) -> list[LimitSettings]:
        return [limit for limit in self.settings.limits if limit.kind == kind]

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def day_start(self, moment: datetime) -> datetime:
        """Midnight of the campaign's local day that holds `moment` (daily reply budgets)."""
        return datetime.combine(self.local(moment).date(), time(0), tzinfo=self.zone)


@dataclass(frozen=True)
class MailboxRef:
    """One polled mailbox: the account and the campaign group it serves."""

    campaign: Campaign
    group: str

    @property
    def settings(self) -> GroupSettings:
        return self.campaign.group(self.group)

    @property
    def account(self) -> str:
        return self.settings.mailbox.account.lower()

    @property
    def key(self) -> str:
        return f"{self.campaign.id}/{self.group}"


def load_campaigns(config: Config) -> list[Campaign]:
    campaigns = []
    for key, settings in config.settings.campaigns.items():
        roster = load_roster(config.path(settings.roster)) if settings.roster else Roster()
        campaigns.append(Campaign(key, settings, roster))
    return campaigns


def all_mailboxes(campaigns: list[Campaign]) -> list[MailboxRef]:
    return [MailboxRef(c, group) for c in campaigns for group in c.settings.groups]
