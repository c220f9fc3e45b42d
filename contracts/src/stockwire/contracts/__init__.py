"""Stockwire message contracts: the envelope, the topic registry and every payload.

Producers build payloads with these models (strict: unknown fields are an error);
consumers read them with :func:`stockwire.contracts.envelope.read_payload` (tolerant:
unknown fields are ignored), so a producer may add optional fields within a version.
"""
