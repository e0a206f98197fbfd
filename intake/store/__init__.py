"""The ledger: typed tables, the database engine and the queries the other layers need."""
