"""Session-wide fixtures: the broker and database server every test that needs one shares."""

from collections.abc import Iterator

import pytest

from stockwire.devstack.teststack import environment, test_stack
from stockwire.runtime.settings import Settings


@pytest.fixture(scope="session")
def settings(pytestconfig: pytest.Config) -> Iterator[Settings]:
    """Settings for a running broker (all topics created) and PostgreSQL server.

    The STOCKWIRE_* variables are exported for the session too, so services and tools the
    tests start as subprocesses reach the same servers and the same test databases.
    """
    with (
        test_stack(pytestconfig.rootpath / ".stockwire") as stack,
        pytest.MonkeyPatch.context() as env,
    ):
        for name, value in environment(stack).items():
            env.setenv(name, value)
        yield stack
