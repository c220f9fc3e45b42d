"""Event, movement and alert ids are UUID version 7: unique, and ordered by creation time."""

import time
import uuid

from stockwire.contracts.ids import new_id


def test_ids_are_rfc_9562_version_7():
    made = new_id()
    assert made.version == 7
    assert made.variant == uuid.RFC_4122


def test_ids_carry_their_creation_time_in_milliseconds():
    before = time.time_ns() // 1_000_000
    made = new_id()
    after = time.time_ns() // 1_000_000
    assert before <= made.int >> 80 <= after


def test_ids_made_in_later_milliseconds_sort_after_earlier_ones():
    first = new_id()
    time.sleep(0.002)
    assert new_id() > first


def test_a_hundred_thousand_ids_are_all_different():
    assert len({new_id() for _ in range(100_000)}) == 100_000
