"""What runs on a clock: the interval jobs (jobs.py wires them into APScheduler: the check-in
tick, reminders, sweeps, escalation, retention) and the pure, DST-safe schedule math
(schedule.py, meeting_schedule.py: the standard library and one another only). Sending is
delivery's: the jobs queue outbox rows and ask the dispatcher to drain. It may import db,
delivery, messages, SQLAlchemy, APScheduler and prometheus-client; never bot or
python-telegram-bot."""
