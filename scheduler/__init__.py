"""What runs on a clock: the interval jobs (jobs.py wires them into APScheduler: the check-in
tick, reminders, sweeps, escalation, retention) and the pure, DST-safe schedule math
(schedule.py, meeting_schedule.py, paid_policy.py: the standard library and one another only).
The outbox dispatcher (dispatcher.py) is the one module here that imports python-telegram-bot.
It may import db, messages, SQLAlchemy, APScheduler and prometheus-client; never bot."""
