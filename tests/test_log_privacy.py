"""The grep test: the bot at DEBUG, as real processes, through enrollment, a check-in with
free text, an alert, configuration errors and a rejected token. Nothing it prints may hold the
token, the webhook secret, the database password, or the participant's words, name or
Telegram id."""

from __future__ import annotations

import asyncio
import signal

from sqlalchemy.engine import make_url

from tests.cli import WAIT, aftercare, start_bot, until_started
from tests.fake_telegram import FakeTelegram
from tests.test_cli_end_to_end import TOKEN, cli_env, reply_to, tap

PASSWORD = "Pw-db-7f3e9a1c"  # PostgreSQL here trusts local users, so any password connects
WEBHOOK_SECRET = "whsec_4d2b8e6f0a1c3579"
NAME = "Zephyrine"
PARTICIPANT = 7340012345
COUNSELOR = 7340099999
FREE_TEXT = "Quillon brought soup and we watched the rain together"


async def test_nothing_secret_or_personal_reaches_the_output_at_debug(pg_url, tmp_path):
    database_url = make_url(pg_url).set(password=PASSWORD).render_as_string(hide_password=False)
    output = []
    async with FakeTelegram(token=TOKEN, bot_username="aftercare_grep_bot") as tg:
        env = cli_env(tg, tmp_path, DATABASE_URL=database_url, WEBHOOK_SECRET=WEBHOOK_SECRET,
                      DISPATCH_INTERVAL_SECONDS="0.5")  # fmt: skip
        code, out, err = await aftercare(env, tmp_path, "invite-counselor", "--name", "Dana")
        assert code == 0, err
        output += [out, err]
        link = out.strip().splitlines()[-1]

        log_path = tmp_path / "bot.log"
        bot = await start_bot(env, tmp_path, log_path)
        try:
            await until_started(bot, log_path)
            tg.user(COUNSELOR, first_name="Dana")
            tg.user(PARTICIPANT, first_name=NAME, last_name="Okonkwo-Lindqvist")
            await reply_to(tg, COUNSELOR, "/start " + link.rsplit("=", 1)[1])
            invite = await reply_to(tg, COUNSELOR, "/invite " + NAME)
            token = invite["text"].split("?start=")[1].split()[0]
            await reply_to(tg, PARTICIPANT, "/start " + token)
            await tap(tg, PARTICIPANT, "Yes, I agree")
            await reply_to(tg, PARTICIPANT, "America/Denver")
            await reply_to(tg, PARTICIPANT, "08:15")
            await tap(tg, PARTICIPANT, "Sun")
            await reply_to(tg, PARTICIPANT, "/checkin")
            await tap(tg, PARTICIPANT, "4")
            await reply_to(tg, PARTICIPANT, "9")  # a craving of 9: a high alert
            await tg.wait_for(lambda: any("alert:" in (m.get("text") or "")
                                          for m in tg.sent(COUNSELOR)),
                              timeout=WAIT, message="the alert")  # fmt: skip
            await reply_to(tg, PARTICIPANT, FREE_TEXT)
        finally:
            bot.send_signal(signal.SIGINT)
            await asyncio.wait_for(bot.wait(), WAIT)
        output.append(log_path.read_text())
        assert "DEBUG" in output[-1] and "Calling Bot API endpoint" in output[-1]

        rejected = dict(env, TELEGRAM_BOT_TOKEN="111222:WRONG-token-the-api-rejects")
        code, out, err = await aftercare(rejected, tmp_path, "run")
        assert code == 2 and "TELEGRAM_BOT_TOKEN was rejected" in err, err
        assert len([line for line in err.splitlines() if "ERROR" in line]) == 1, err
        assert "Traceback" not in err
        output += [out, err]
        code, out, err = await aftercare(rejected, tmp_path, "invite-counselor", "--name", "X")
        output += [out, err]
        secrets = [TOKEN, TOKEN.split(":")[1], rejected["TELEGRAM_BOT_TOKEN"].split(":")[1]]

    bad_secret = dict(env, WEBHOOK_SECRET="not valid because of spaces " + WEBHOOK_SECRET)
    bad_url = dict(env, DATABASE_URL=database_url.replace("+asyncpg", ""))
    for broken in (bad_secret, bad_url):
        code, out, err = await aftercare(broken, tmp_path, "run")
        assert code == 2 and len(err.strip().splitlines()) <= 3, err
        output += [out, err]

    everything = "\n".join(output)
    for needle in [*secrets, WEBHOOK_SECRET, PASSWORD, NAME, "Okonkwo", FREE_TEXT, "Quillon",
                   str(PARTICIPANT), str(COUNSELOR)]:  # fmt: skip
        assert needle not in everything, f"{needle!r} reached the output"
