"""Stockwire runtime: settings, database, outbox, inbox, broker, telemetry and HTTP helpers shared by every service."""
