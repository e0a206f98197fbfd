"""A campaign as the other layers see it: its settings, its roster and its deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from intake.campaigns.roster import Roster, load_roster
from intake.config import CampaignSettings, Config, GroupSettings, KindSettings


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
        return {key: kind.name_pattern for key, kind in self.kinds.items()}

    def closes_at(self) -> datetime:
        """The first instant no longer accepted: midnight after the deadline day, plus grace."""
        day_after = self.settings.deadline + timedelta(days=1)
        midnight = datetime.combine(day_after, time(0), tzinfo=self.zone)
        return midnight + timedelta(minutes=self.settings.grace_minutes)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)


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
