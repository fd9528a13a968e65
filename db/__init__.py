"""The database: SQLAlchemy 2 typed models (models.py), the engine and session factory, one
module of named query functions per subject (handlers never build SQL), and the Alembic
migrations (migrations/, db/migrate.py runs them). It may import SQLAlchemy, Alembic and pure
helpers of messages (a feed's meeting, the dashboard's figures) and the priorities
(delivery/priority.py); never python-telegram-bot, bot or scheduler, so that migrations and
queries run without the bot."""
