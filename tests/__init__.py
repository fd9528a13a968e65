"""The suite: unit tests of the pure parts (tables and hypothesis, no bot and no database) and
integration tests that drive the real bot over HTTP against the local Bot API server
(fake_telegram), on SQLite and on PostgreSQL when TEST_DATABASE_URL is set, plus browser tests
of the dashboard. It may import anything of ours; only bench and scripts import it."""
