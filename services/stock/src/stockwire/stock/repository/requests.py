"""HTTP requests sent with an ``Idempotency-Key``: a key is claimed in the request's own
transaction, and its answer stored there, so a repeat gets the first answer. Only the
repository's facade uses this module."""

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

CLAIM_REQUEST = text(
    """
    INSERT INTO command_requests (request_id, fingerprint) VALUES (:id, :fingerprint)
    ON CONFLICT (request_id) DO NOTHING RETURNING request_id
    """
)

STORED_ANSWER = text(
    "SELECT fingerprint, status_code, body FROM command_requests WHERE request_id = :id"
)

STORE_ANSWER = text(
    "UPDATE command_requests SET status_code = :status, body = CAST(:body AS jsonb) "
    "WHERE request_id = :id"
)


class Requests:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, request_id: str, fingerprint: str) -> tuple[str, int | None, Any] | None:
        """None if ``request_id`` is new (and now claimed until this transaction ends);
        else what the earlier request stored: its fingerprint, status code and body. A
        concurrent duplicate waits here until the first one commits or rolls back. The
        stored answer can be purged between the claim and the read (its retention ran
        out just then): the key is then new, and is claimed again."""
        while True:
            claimed = await self._session.scalar(
                CLAIM_REQUEST, {"id": request_id, "fingerprint": fingerprint}
            )
            if claimed is not None:
                return None
            row = (await self._session.execute(STORED_ANSWER, {"id": request_id})).one_or_none()
            if row is not None:
                return row.fingerprint, row.status_code, row.body

    async def store_answer(self, request_id: str, status_code: int, body: str) -> None:
        await self._session.execute(
            STORE_ANSWER, {"id": request_id, "status": status_code, "body": body}
        )
