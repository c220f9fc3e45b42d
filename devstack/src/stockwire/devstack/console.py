"""Progress lines for ``make up``: short, flushed at once, so a piped reader sees them live."""

import contextlib
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


def say(message: str, stream: TextIO | None = None) -> None:
    """Print a progress line; a closed terminal or pipe must never stop a clean shutdown."""
    with contextlib.suppress(OSError, ValueError):
        print(message, file=stream or sys.stdout, flush=True)


@contextmanager
def step(doing: str, done: str) -> Iterator[None]:
    """Print ``doing...`` now and ``done (N s)`` when the block succeeds."""
    say(f"{doing}...")
    started = time.monotonic()
    yield
    say(f"  {done} ({time.monotonic() - started:.1f} s)")
