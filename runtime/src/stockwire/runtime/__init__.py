"""Stockwire runtime: what every service needs the same way.

Settings, database, outbox, inbox, broker, telemetry and HTTP helpers.
"""
