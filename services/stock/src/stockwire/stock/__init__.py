"""Stockwire stock service: balances, the movement ledger, transfers, counts and reservations."""
