"""Errors about the request itself, as opposed to stock rules.

A movement the stock rules refuse (not enough stock, a serial elsewhere) is not an error:
it is recorded as a rejection event. These exceptions are for commands that cannot be
considered at all: they name a transfer, count or reservation that does not exist, clash
with one that does, or are malformed in a way only the domain can see.
"""


class NotFound(Exception):
    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} {key!r}")


class Conflict(Exception):
    """Valid on its own, but clashes with the current state (e.g. an id already used)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class Invalid(Exception):
    """A field's value is unacceptable whatever the stock."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")
