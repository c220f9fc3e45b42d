"""Why a command was refused, in terms an operator can act on.

Each error names the field at fault and the reason, so an entry point can report it
without knowing the rule that failed.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One broken rule: the field at fault and why."""

    field: str
    reason: str


class DomainError(Exception):
    """A command breaks a catalog rule; carries every problem found, first one foremost."""

    def __init__(self, field: str, reason: str, *more: Problem) -> None:
        self.problems: tuple[Problem, ...] = (Problem(field, reason), *more)
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in self.problems))

    @classmethod
    def of(cls, problems: list[Problem]) -> "DomainError":
        first, *rest = problems
        return cls(first.field, first.reason, *rest)

    @property
    def field(self) -> str:
        return self.problems[0].field

    @property
    def reason(self) -> str:
        return self.problems[0].reason


class NotFound(Exception):
    """The command names a record that does not exist."""

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} {key!r}")


class Conflict(Exception):
    """The command is valid on its own but clashes with the catalog's current state."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class VersionMismatch(Exception):
    """The caller changed a record it last saw at another version (a lost update averted)."""

    def __init__(self, kind: str, key: str, expected: int, current: int) -> None:
        self.kind = kind
        self.key = key
        self.expected = expected
        self.current = current
        super().__init__(f"{kind} {key!r} is at version {current}, not {expected}")


@dataclass(frozen=True)
class RowProblem:
    """A problem in one row of an import file."""

    line: int
    field: str
    reason: str


class ImportRejected(Exception):
    """An import file has bad rows; nothing from it was applied."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: p.line))
        super().__init__(f"{len({p.line for p in self.problems})} bad rows")
