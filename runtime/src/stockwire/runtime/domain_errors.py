"""Why a command was refused, in terms every entry point answers the same way.

A service's ``domain/`` raises these, so this module is plain Python: a domain imports
nothing of FastAPI, pydantic, SQLAlchemy or asyncpg, and neither does this. The HTTP layer
(:mod:`stockwire.runtime.http.problems`) answers each one: :class:`Invalid` with 422,
:class:`NotFound` 404, :class:`Conflict` 409 and :class:`VersionMismatch` 412.

A business rejection (not enough stock, a serial held elsewhere) is none of these: it is
recorded as an event. These are for commands that cannot be considered at all.
"""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One broken rule: the field at fault and why (and the line, in an uploaded file)."""

    field: str
    reason: str
    line: int | None = None


class DomainError(Exception):
    """A command the domain refuses to consider."""


class Invalid(DomainError):
    """Values are unacceptable whatever the state; carries every problem found, first one
    foremost."""

    def __init__(self, field: str, reason: str, *more: Problem, detail: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = (Problem(field, reason), *more)
        self.detail = detail or "; ".join(f"{p.field}: {p.reason}" for p in self.problems)
        super().__init__(self.detail)

    @classmethod
    def of(cls, problems: Sequence[Problem], detail: str | None = None) -> "Invalid":
        """All of ``problems`` (at least one, lines kept) in one error."""
        first, *rest = problems
        error = cls(first.field, first.reason, *rest, detail=detail)
        error.problems = tuple(problems)
        return error

    @property
    def field(self) -> str:
        return self.problems[0].field

    @property
    def reason(self) -> str:
        return self.problems[0].reason


class NotFound(DomainError):
    """The command names a record that does not exist."""

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} {key!r}")


class Conflict(DomainError):
    """Valid on its own, but clashes with the current state (e.g. an id already used)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class VersionMismatch(DomainError):
    """The caller changed a record it last saw at another version (a lost update averted)."""

    def __init__(self, kind: str, key: str, expected: int, current: int) -> None:
        self.kind = kind
        self.key = key
        self.expected = expected
        self.current = current
        super().__init__(f"{kind} {key!r} is at version {current}, not {expected}")
