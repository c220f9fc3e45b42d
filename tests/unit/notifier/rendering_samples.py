"""Alerts to render: one per kind, with every field filled, and hostile text on demand."""

from datetime import UTC, datetime
from decimal import Decimal

from stockwire.notifier.rendering import RenderAlert

RAISED = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)
LINK = "https://stock.example.test/api/v1/balances?sku=ONT-4X&location=VAN-12"
ACK = "https://notifier.example.test/ack/eyJrIjoiYWJjIn0.sig"


def alert(kind: str = "stockout", **changes) -> RenderAlert:
    fields = {
        "dedup_key": f"{kind}:VAN-12:ONT-4X",
        "kind": kind,
        "severity": "warning",
        "summary": "ONT-4X ran out at VAN-12",
        "raised_at": RAISED,
        "location": "VAN-12",
        "region": "north",
        "sku": "ONT-4X",
        "category": "ont",
        "labels": {"job_id": "JOB-77", "serial": "SN-1", "transfer_id": "TR-9", "count_id": "CT-3"},
        "figures": {"available": Decimal("0"), "requested": Decimal("3.50")},
        "link": LINK,
    }
    fields.update(changes)
    return RenderAlert(**fields)


def many(count: int, kind: str = "stockout") -> list[RenderAlert]:
    return [
        alert(kind, dedup_key=f"{kind}:VAN-{i}:ONT-4X", location=f"VAN-{i}", summary=f"alert {i}")
        for i in range(count)
    ]
