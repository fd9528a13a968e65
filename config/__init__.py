"""Configuration: the settings read from the environment or a .env file (settings.py, the
one place configuration is read) and the masking of the secrets in them (redact.py). The
edge, the services and the tools read it; it may import pydantic-settings, python-dotenv,
SQLAlchemy's URL parsing and three pure pieces (db/url.py, delivery's paid policy, the
schedule math's parsing), never bot or python-telegram-bot."""
