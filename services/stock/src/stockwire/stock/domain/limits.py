"""The largest figures stock handles, so that every value it publishes fits its contracts.

``MAX_QUANTITY`` bounds what one movement moves and what one command asks for;
``MAX_LEVEL`` bounds every figure of a balance or level (on hand, reserved, in transit,
available), either way. Quantities have at most ``PLACES`` decimals. The contracts state
the same bounds (``Quantity``, ``SignedQuantity``), and a contracts test keeps the two
equal; the domain keeps its own copy because it imports nothing of the contracts'
pydantic models.
"""

from decimal import Decimal

MAX_QUANTITY = Decimal(1_000_000)
MAX_LEVEL = Decimal(1_000_000_000)
PLACES = 3
