"""Tokens and secrets the notifier's integration tests share (imported by file name, like
stock's ``stock_refs``, so it cannot be mistaken for another directory's conftest)."""

WRITER_TOKEN = "notifier-writer-token"
READER_TOKEN = "notifier-reader-token"
LINK_SECRET = "a-link-secret-for-tests"
