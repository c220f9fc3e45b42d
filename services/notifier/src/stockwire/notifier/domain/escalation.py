"""Escalation: a critical alert nobody acknowledged goes to the next step of its rule's chain.

Steps count from the moment the alert was first sent on the rule; a tick that comes late
fires every step already due, in order. Acknowledgement or resolution ends the chain.
"""

from dataclasses import dataclass
from datetime import datetime

from .rules import EscalationStep


@dataclass
class EscalationState:
    """Where one alert stands on one rule's chain (kept inside the alert's state)."""

    rule_id: str
    started_at: datetime
    next_step: int = 0

    def due_steps(
        self, chain: tuple[EscalationStep, ...], now: datetime
    ) -> list[tuple[int, EscalationStep]]:
        """The steps due by ``now`` not fired yet (1-based numbers), marking them fired."""
        due = []
        while self.next_step < len(chain) and now >= self.started_at + chain[self.next_step].after:
            due.append((self.next_step + 1, chain[self.next_step]))
            self.next_step += 1
        return due

    def next_due(self, chain: tuple[EscalationStep, ...]) -> datetime | None:
        if self.next_step >= len(chain):
            return None
        return self.started_at + chain[self.next_step].after

    def finished(self, chain: tuple[EscalationStep, ...]) -> bool:
        return self.next_step >= len(chain)
