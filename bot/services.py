"""The services of a running bot, reached through application.bot_data (care/services.py
defines them)."""

from __future__ import annotations

from telegram.ext import ContextTypes

from care.services import Services


def services_of(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]
