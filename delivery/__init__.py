"""Getting messages out, in one place: the priorities (priority.py, one IntEnum), the outbox
dispatcher that claims rows most urgent first and records every outcome (dispatcher.py), the
one rate limiter under every Bot API call (rate_limit.py), paid broadcasts' pure policy
(paid_policy.py), the retry rules (retry.py), stored reply markup as PTB objects (markup.py),
the HTTP request layer (http_request.py) and the delivery metrics (metrics.py). It may import
db, messages, python-telegram-bot, aiohttp, SQLAlchemy and prometheus-client, and of scheduler
only alerting (a blocked chat raises an alert); never bot. priority.py and paid_policy.py are
the standard library alone, so db may import priority.py (tests/test_layout.py checks these
rules)."""
