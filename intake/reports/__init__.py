"""What organizers take away from the ledger: the daily digest and the exports."""
