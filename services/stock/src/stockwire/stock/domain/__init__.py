"""Stock's rules in plain Python: balances, the ledger's legs, serials, job custody,
transfers, counts and reservations. No I/O imports, so the rules run (and are tested)
in microseconds."""
