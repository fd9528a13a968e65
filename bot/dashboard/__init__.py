"""The counselor web dashboard: the /dashboard command (command.py), the aiohttp server in the
bot's own event loop (server.py), its pages (pages.py) and alert actions (actions.py). It may
import aiohttp, jinja2, python-telegram-bot, care, config, db, messages and scheduler, and from
bot only the shared pieces (services, telegram_io, common, resolved), never the chat handlers
(participant, counselor, contacts...) nor the wiring (app, runner, cli); only bot/app.py and
bot/runner.py import it."""
