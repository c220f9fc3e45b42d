"""How long a retry waits: the one backoff consumers, the relay and deliveries share."""

from stockwire.runtime.transient import backoff_s


def test_the_backoff_doubles_from_the_first_wait_up_to_the_most():
    waits = [backoff_s(0.5, 5.0, failures) for failures in range(6)]

    assert waits == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
