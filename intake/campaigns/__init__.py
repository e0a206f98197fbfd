"""How a campaign's configuration becomes kinds, deadlines, rosters and mailboxes."""
