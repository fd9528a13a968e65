"""The domain services: enrollment, the check-in flow, safety and alerts, the plan, medication,
meetings, settings, pauses, support contacts, a participant's own data (export, erasure),
what a participant's typed message answers, a counselor's caseload look-up and discharge.
Each takes a session, the Services (services.py) and the person served, does one unit of work
and answers with a Reply (reply.py) or the message to send; the edge (bot/) parses the update,
authorizes, calls one and sends what it answers. It may import config, db, delivery, messages
and scheduler; never python-telegram-bot, bot or aiohttp (tests/test_layout.py checks it)."""
