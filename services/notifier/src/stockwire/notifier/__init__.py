"""Stockwire notifier: reads every alert topic the registry marks and tells people, by
email and chat, once and readably: routing rules, grouping, de-duplication, digests,
silences, inhibition, quiet hours, flap suppression, escalation and acknowledgement, with
every delivery logged, retried and never lost."""
