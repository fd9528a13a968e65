"""The Telegram edge: the Application and its routing table (app.py lists every handler), the
gate that stores each update and resolves who is writing (resolved.py hands it to handlers),
the handlers that parse, authorize, call one service of care and send what it answers, and the
processes around them (the CLI, `aftercare run`, polling and webhook intake, the status
server, the demo). It may import every package of ours (care, config, db, delivery, messages,
scheduler) and python-telegram-bot; only demo.py and cli.py import fake_telegram, and nothing
here imports tests or bench. No other package of ours imports bot (tests/test_layout.py
checks these rules)."""
