"""The counselor web dashboard: the /dashboard command (command.py), the aiohttp server in the
bot's own event loop (server.py), its pages (pages.py) and alert actions (actions.py)."""
