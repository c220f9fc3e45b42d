"""Firmware versions: how two compare, whether a device meets its model's minimum, and
the compliance of an installed base.

Vendors write versions every way (``3.2.10``, ``R21.10a``, ``15.2(7)E8``,
``V5R19C10SPC200``, ``7.0.1-rc2``), so the order is a natural one, not semantic
versioning's alone:

- a version is a sequence of *parts*: runs of digits (numbers) and runs of letters
  (words, compared without case); everything else (``.``, ``-``, ``_``, ``(``, spaces, ...)
  only separates parts;
- two versions compare part by part: numbers by value (``3.2.10`` > ``3.2.9``, and
  ``R21.10a`` > ``R21.4b``, leading zeros ignored), words alphabetically (``17.9.4b`` >
  ``17.9.4a``);
- a missing part counts as ``0`` (``1.0`` = ``1.0.0``); a version that goes on with a
  number above 0 or a word is later (``R21.4b`` > ``R21.4``), except that a pre-release
  word (:data:`PRE_RELEASE`: alpha, beta, dev, pre, rc) makes it *earlier* (``3.2.0-rc1``
  < ``3.2.0``), and is also earlier than a number or any other word in the same place;
- versions are **incomparable** when their first parts are different words (different
  trains or product lines: ``R21.4`` against ``V5R19``), when a number meets a word that
  is not a pre-release one (``3.2a`` against ``3.2.1``), or when either has no part at
  all. Nobody can then say the device is at or above the minimum, so it is treated as
  **below** the minimum (fail closed): the alert and the report make a person look.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from stockwire.assets.domain.kpi import ratio
from stockwire.runtime.domain_errors import Invalid

PRE_RELEASE = frozenset({"alpha", "beta", "dev", "pre", "rc"})
"""Words that mark a version before the release they lead to."""

VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._+()~-]{0,63}$"
"""What a minimum set over HTTP may look like: it starts with a letter or digit (so it
has a part to compare), up to 64 characters, no spaces."""

Part = int | str

_PARTS = re.compile(r"[0-9]+|[^\W\d_]+")
_VERSION = re.compile(VERSION_PATTERN)


@dataclass(frozen=True, slots=True)
class SetMinimum:
    """Set (or replace) a model's minimum firmware, e.g. after a vendor advisory."""

    sku: str
    minimum_version: str
    reason: str | None
    set_by: str

    def __post_init__(self) -> None:
        if _VERSION.fullmatch(self.minimum_version) is None:
            raise Invalid(
                "minimum_version",
                "must start with a letter or digit: up to 64 letters, digits and . _ + ( ) ~ -",
            )


def parts(version: str) -> tuple[Part, ...]:
    """The numbers and words of ``version``, in order (words in lower case)."""
    return tuple(
        int(token) if token.isascii() and token.isdigit() else token.casefold()
        for token in _PARTS.findall(version)
    )


def compare(version: str, other: str) -> int | None:
    """-1, 0 or 1 as ``version`` is earlier than, the same as, or later than ``other``;
    None when they are incomparable (see the module's rule)."""
    mine, theirs = parts(version), parts(other)
    if not mine or not theirs:
        return None
    for place, (a, b) in enumerate(zip(mine, theirs, strict=False)):
        if a == b:
            continue
        if isinstance(a, int) and isinstance(b, int):
            return -1 if a < b else 1
        if isinstance(a, str) and isinstance(b, str):
            return None if place == 0 else _words(a, b)
        return _number_and_word(a, b)
    if len(mine) == len(theirs):
        return 0
    if len(mine) > len(theirs):
        return _rest(mine[len(theirs) :])
    rest = _rest(theirs[len(mine) :])
    return -rest


def meets_minimum(version: str, minimum: str) -> bool:
    """Whether ``version`` is at or above ``minimum``; an incomparable one is not."""
    order = compare(version, minimum)
    return order is not None and order >= 0


def _words(a: str, b: str) -> int:
    early_a, early_b = a in PRE_RELEASE, b in PRE_RELEASE
    if early_a != early_b:
        return -1 if early_a else 1
    return -1 if a < b else 1


def _number_and_word(a: Part, b: Part) -> int | None:
    word = a if isinstance(a, str) else b
    if word not in PRE_RELEASE:
        return None
    return -1 if isinstance(a, str) else 1


def _rest(rest: tuple[Part, ...]) -> int:
    """How a version that goes on with ``rest`` compares with the one that stopped."""
    for part in rest:
        if part == 0:
            continue
        return -1 if isinstance(part, str) and part in PRE_RELEASE else 1
    return 0


@dataclass(frozen=True, slots=True)
class FirmwareCount:
    """How many installed devices of a model, in a region, run one firmware version
    (None: not known)."""

    sku: str
    region: str | None
    firmware_version: str | None
    devices: int


@dataclass(frozen=True, slots=True)
class Compliance:
    """A model's installed devices in a region against its minimum firmware."""

    sku: str
    region: str | None
    minimum_version: str
    installed: int
    compliant: int
    below_minimum: int
    unknown_firmware: int

    @property
    def share_compliant(self) -> Decimal | None:
        """Compliant / installed: a device whose firmware is unknown is not shown
        compliant."""
        return ratio(self.compliant, self.installed)


def compliance(counts: Iterable[FirmwareCount], minimums: Mapping[str, str]) -> list[Compliance]:
    """Per model and region, by SKU then region, the installed devices that meet their
    model's minimum, those below it (incomparable versions included) and those whose
    firmware is not known. Models without a minimum are left out."""
    tally: dict[tuple[str, str | None], list[int]] = {}
    for count in counts:
        minimum = minimums.get(count.sku)
        if minimum is None:
            continue
        row = tally.setdefault((count.sku, count.region), [0, 0, 0])
        if count.firmware_version is None:
            row[2] += count.devices
        elif meets_minimum(count.firmware_version, minimum):
            row[0] += count.devices
        else:
            row[1] += count.devices
    return [
        Compliance(sku, region, minimums[sku], sum(row), row[0], row[1], row[2])
        for (sku, region), row in sorted(
            tally.items(), key=lambda item: (item[0][0], item[0][1] or "")
        )
    ]
