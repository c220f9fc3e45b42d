"""The engine's state as kept in PostgreSQL and in a process's memory: a process reuses
what it saved only while no one else has written since, and never after a rollback."""

import uuid
from datetime import UTC, datetime
from typing import Any

from stockwire.contracts.vocabulary import AlertSeverity
from stockwire.notifier.domain.alerts import Alert
from stockwire.notifier.domain.state import Changes
from stockwire.notifier.domain.tracking import AlertState
from stockwire.notifier.state import KeptState, StateRepository


def tracked(key: str) -> AlertState:
    now = datetime.now(UTC)
    alert = Alert(
        dedup_key=key,
        alert_id=uuid.uuid4(),
        kind="stockout",
        severity=AlertSeverity.WARNING,
        summary=f"{key} is out",
        raised_at=now,
    )
    return AlertState(alert, "firing", now, now)


def never_due(_: Any) -> None:
    return None


async def add(sessions: Any, kept: KeptState, key: str) -> None:
    async with sessions.begin() as session:
        repository = StateRepository(session, kept)
        state = await repository.take()
        state.alerts[key] = tracked(key)
        await repository.save(state, Changes(alerts={key}), never_due, {})


async def keys_seen(sessions: Any, kept: KeptState) -> set[str]:
    async with sessions.begin() as session:
        repository = StateRepository(session, kept)
        state = await repository.take()
        await repository.save(state, Changes(), never_due, {})
        return set(state.alerts)


async def test_a_process_sees_what_another_instance_wrote_since_it_kept_the_state(
    notifier_service: tuple[Any, Any],
) -> None:
    sessions = notifier_service[1].sessions
    mine, theirs = KeptState(), KeptState()
    first, second = f"k-{uuid.uuid4()}", f"k-{uuid.uuid4()}"
    await add(sessions, mine, first)

    await add(sessions, theirs, second)

    assert {first, second} <= await keys_seen(sessions, mine)


async def test_a_rolled_back_change_is_not_kept(notifier_service: tuple[Any, Any]) -> None:
    sessions = notifier_service[1].sessions
    kept = KeptState()
    key = f"k-{uuid.uuid4()}"
    await keys_seen(sessions, kept)

    async with sessions.begin() as session:
        repository = StateRepository(session, kept)
        state = await repository.take()
        state.alerts[key] = tracked(key)
        await repository.save(state, Changes(alerts={key}), never_due, {})
        await session.rollback()

    assert key not in await keys_seen(sessions, kept)


async def test_the_kept_state_is_reused_while_no_one_else_writes(
    notifier_service: tuple[Any, Any],
) -> None:
    sessions = notifier_service[1].sessions
    kept = KeptState()
    async with sessions.begin() as session:
        repository = StateRepository(session, kept)
        saved = await repository.take()
        await repository.save(saved, Changes(), never_due, {})

        again = await StateRepository(session, kept).take()

    assert again is saved
    assert kept.state is None
