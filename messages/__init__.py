"""Clinical content as data and its meaning, pure: the content files (content/*.toml and the
screen's corpus) loaded into a validated catalog (catalog.py with content_types.py,
content_parser.py and required_texts.py), the risk rules, the free-text screen, coping choice,
answer parsing, callback data and HTML-safe rendering. It imports nothing of ours outside
messages, and no I/O library: not python-telegram-bot, SQLAlchemy, aiohttp or APScheduler
(matplotlib draws charts to bytes, scikit-learn trains the screen in memory)."""
