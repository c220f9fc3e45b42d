"""The HTTP layer every service shares: the app, error answers, pagination, request limits,
Idempotency-Key handling and signed-webhook intake."""
