"""The one-line JSON result every benchmark ends with (see README, conventions)."""

import json
import sys
from typing import Literal

Target = tuple[Literal[">=", "<="], float]


def report(benchmark: str, figures: dict[str, float], targets: dict[str, Target]) -> bool:
    """Print the result line; returns whether every target was met."""
    met = all(
        figures[name] >= value if op == ">=" else figures[name] <= value
        for name, (op, value) in targets.items()
    )
    line = {
        "benchmark": benchmark,
        "figures": {name: round(value, 3) for name, value in figures.items()},
        "targets": {name: {"op": op, "value": value} for name, (op, value) in targets.items()},
        "met": met,
    }
    print(json.dumps(line), flush=True)
    return met


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
