"""Base classes shared by every payload model."""

from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class Contract(BaseModel):
    """A strictly written message part: unknown fields are rejected when producing."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Event(Contract):
    """A payload carried in an envelope; each subclass names its own event type."""

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1


Sku = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
"""An opaque stock-keeping unit code, chosen by the operator."""

LocationCode = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
"""An opaque location code, chosen by the operator."""

Serial = Annotated[str, StringConstraints(min_length=1, max_length=128, strip_whitespace=True)]
"""A device serial number, opaque."""

CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
"""An ISO 4217 currency code, upper case."""

Quantity = Annotated[Decimal, Field(gt=0, le=1_000_000, max_digits=12, decimal_places=3)]
"""A positive count, or meters for length-tracked items."""
