"""The local Bot API server now lives in the `fake_telegram` package (fake_telegram/server.py).
This name stays so that `from tests.fake_telegram import ...` keeps working: it is the same
module object, so every name (and monkeypatching one) is shared. New code imports
`fake_telegram`."""

import sys

from fake_telegram import server

sys.modules[__name__] = server
