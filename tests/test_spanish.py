"""Spanish, end to end: every participant and contact flow through the real bot, with no English
sentence anywhere; the counselor's side stays in the program's language."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.runner import import_meetings, read_feed
from db.models import Answer
from messages.catalog import load_catalogs
from tests.english import english_sentences
from tests.harness import invite_link, participant_row, register_counselor
from tests.test_meetings import FEED

NEW_YORK = ZoneInfo("America/New_York")
SPANISH = load_catalogs().get("es")
# What people wrote or the program's list holds is shown as written, in whatever language.
DATA = ("Tuesday Hope Group", "St. Mark's Church Hall", "214 Elm Street", "María", "Ana", "Rosa")


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK).astimezone(UTC)


def buttons(message: dict) -> list[str]:
    markup = message.get("reply_markup") or {}
    rows = markup.get("inline_keyboard", []) + markup.get("keyboard", [])
    return [b["text"] for row in rows for b in row]


def english_in(person) -> list[str]:
    """Every English sentence in what the bot sent this person: texts, captions, buttons."""
    found = []
    for message in person.messages():
        for text in [message.get("text") or "", *buttons(message)]:
            found += [f"{s!r} in {text[:60]!r}" for s in english_sentences(text, DATA)]
    return found


def test_no_spanish_text_reads_as_english():
    """The detector over every text of es.toml: a cheap net under the walk below."""
    texts = [t for section in SPANISH.texts.values() for t in section.values()]
    for q in SPANISH.questions.values():
        texts += [q.prompt, q.legend, *(o.label for o in q.options)]
    texts += [p.text for p in SPANISH.coping_prompts]
    texts += [a.reply for a in SPANISH.meetings.answers] + list(SPANISH.plan_first_steps)
    assert [t for t in texts if english_sentences(t)] == []


def test_the_detector_finds_english():
    english = load_catalogs().default
    assert english_sentences(english.text("crisis", "resources"))
    assert english_sentences("Sorry, something went wrong on my side. Please try again.")
    assert english_sentences("This button is no longer active.")
    assert not english_sentences("Tu chequeo diario llega a las 09:00 (America/New_York).")
    assert not english_sentences("Llama a Never Use Alone: 1-800-484-3731. Envía /help.")


async def answer_calmly(person) -> str:
    """Answer every question left, steering clear of risk; returns the questions asked."""
    asked = ""
    while (person.last().get("reply_markup") or {}).get("inline_keyboard"):
        asked += person.last_text()
        labels = buttons(person.last())
        calm = "No" if "No" in labels else {"1": "4", "0": "2"}.get(labels[0], labels[0])
        await person.press(calm)
    assert "Gracias por hacer tu chequeo" in person.last_text()
    return asked


async def enroll_in_spanish(bot, dana, user_id=2001, name="Ana"):
    link = await invite_link(dana, name)
    ana = bot.person(user_id, name, language_code="es-US")
    await ana.say("/start " + link.rsplit("=", 1)[1])
    assert "Te damos la bienvenida, Ana" in ana.last_text()
    assert "🌐 English" in buttons(ana.last())
    await ana.press("Sí, estoy de acuerdo")
    await ana.press("Este")
    await ana.press("09:00")
    assert "¿Qué día te queda mejor" in ana.last_text()
    await ana.say("miércoles")
    assert "Todo listo, Ana" in ana.last_text() and "los miércoles" in ana.last_text()
    assert "mañana a las 09:00" in ana.last_text()
    assert buttons(ana.last()) == ["🆘 Necesito ayuda ahora"]
    return ana


async def test_every_flow_in_spanish(bot, clock):
    dana = await register_counselor(bot)  # Monday 5 January 2026, 09:00 in New York
    ana = await enroll_in_spanish(bot, dana)
    assert (await participant_row(bot)).language == "es"

    # A daily check-in with a low mood: the safety screen, then crisis help in Spanish.
    await ana.say("/checkin")
    assert "¿Cómo está tu ánimo hoy?" in ana.last_text()
    await ana.press("1")
    assert "estarías mejor muerto(a)" in ana.last_text()
    replies = await ana.press("Sí")
    assert "marca <b>2</b>" in replies[0]["text"] and "AYUDA" in replies[0]["text"]
    assert "1-800-662-4357" in replies[0]["text"] and "naloxona" in replies[0]["text"]
    await ana.press("Sí")  # C-SSRS 1
    await ana.press("No")  # C-SSRS 2: straight on to behaviour
    assert "terminar con tu vida" in ana.last_text()
    await ana.press("No")
    await ana.say("3")  # cravings, typed
    await ana.say("sí")  # use, typed in Spanish: a lapse
    assert any("Un tropiezo no es un fracaso" in t for t in ana.texts())
    assert any("tolerancia ahora es más baja" in t for t in ana.texts())
    await ana.press(buttons(ana.last())[0])  # the rotating question
    assert "Gracias por hacer tu chequeo, Ana" in ana.last_text()
    assert "Día 1 de tu recuperación" in ana.last_text()

    # The counselor is alerted in English, told the language, and the words are hers.
    await bot.dispatch()
    alert = next(t for t in dana.texts() if "alert: Ana" in t)
    assert "Crisis alert: Ana" in alert or "High alert: Ana" in alert
    assert "Uses the bot in Español" in alert
    assert "Thoughts of being better off dead: Yes" in alert  # the program's words

    # Free text, the help button, /sos and /coping.
    # (Not "…y estoy cansada": with the question's bar at 0.1 the model's 0.16 for it asks.)
    await ana.say("Hoy fue un día largo en el trabajo, pero la cena con mi hermana estuvo rica")
    assert "Lo guardé con tus chequeos" in ana.last_text()
    await ana.say("🆘 Necesito ayuda ahora")
    assert "No tienes que enfrentar esto a solas" in ana.texts()[-2] + ana.last_text()
    await ana.say("/coping")
    await ana.press("Otra idea")
    await ana.send_sticker()
    assert "No puedo abrir fotos" in ana.last_text()
    await ana.say("/nada")
    assert "No conozco ese comando" in ana.last_text()
    await ana.say("/help")
    assert "/checkin: hacer tu chequeo ahora" in ana.last_text()

    # The plan.
    await ana.say("/plan")
    await ana.press("Hagámoslo")
    await ana.say("María 555-123-4567")
    assert "Agregué a María" in ana.last_text()
    await ana.press("Listo")
    await ana.press("Llamar a alguien de mi lista")
    await ana.press("Listo")
    await ana.say("Mis hijos y mi salud")
    await ana.press("Sí, compartirlo")
    assert any("Tu plan quedó guardado" in t for t in ana.texts()[-2:])
    await ana.say("/plan")
    assert "Personas de confianza" in ana.last_text()

    # Medication, with a reminder the next morning.
    await ana.say("/medication")
    await ana.press("Metadona")
    await ana.press("08:00")
    await ana.press("Sí, recuérdame")
    assert "tu <b>metadona</b> todos los días a las 08:00" in ana.last()["text"]
    clock.set(ny(2026, 1, 6, 8, 0))
    await bot.tick()
    assert "es hora de tu metadona" in ana.last_text()
    await ana.press("Ya tomé la dosis ✓")
    clock.set(ny(2026, 1, 6, 9, 0))  # her daily check-in, as scheduled
    await bot.tick()
    assert "es hora de tu chequeo diario" in ana.last_text()
    assert "Desde tu último chequeo, ¿has tomado tu medicamento" in await answer_calmly(ana)

    # Meetings: one from the program's list, reminded and followed up; one of her own.
    await import_meetings(bot.settings, read_feed(FEED, "America/New_York"), FEED.name, clock())
    await ana.say("/meetings")
    await ana.press("De la lista de mi programa")
    await ana.press("mar")
    await ana.press("Noche")
    await ana.press("En persona")
    await ana.press("Con orador(a)")
    await ana.press("Tuesday Hope Group")
    assert "los martes, 19:00–20:00" in ana.last_text()
    assert "Abierta · Con orador(a)" in ana.last_text()
    clock.set(ny(2026, 1, 6, 18, 0))
    await bot.meeting_tick()
    assert "Tuesday Hope Group empieza hoy a las 19:00" in ana.last_text()
    clock.set(ny(2026, 1, 6, 20, 0))
    await bot.meeting_tick()
    await ana.say("sí, fui")
    assert "Cada reunión cuenta" in ana.last_text()
    await ana.say("/meetings")
    await ana.press("Agregar la mía")
    await ana.say("Grupo Esperanza")
    await ana.say("jueves")
    await ana.say("19:00")
    await ana.press("Saltar")
    assert "los jueves" in ana.last_text()

    # The weekly check-in on her day (Wednesday), every question in Spanish.
    clock.set(ny(2026, 1, 7, 8, 0))
    await bot.tick()
    await ana.press("Hoy me la salté")
    assert "Gracias por tu sinceridad" in ana.last_text()
    clock.set(ny(2026, 1, 7, 9, 0))
    await bot.tick()
    assert "tu chequeo semanal" in ana.last_text()
    await answer_calmly(ana)

    # Settings, pause.
    await ana.say("/settings")
    assert "Chequeo semanal más largo: los miércoles" in ana.last_text()
    await ana.press("Día semanal")
    await ana.press("vie")
    assert "los viernes" in ana.last_text()
    await ana.say("/settings")
    await ana.press("Horas de silencio")
    await ana.press("22:00–07:00")
    await ana.say("/pause 3")
    assert "en pausa hasta el sábado 10 de enero" in ana.last_text()
    await ana.say("/resume")
    assert "Qué bueno verte de nuevo" in ana.last_text()

    # A support contact, whose Telegram is in English: the offer comes in Ana's language.
    await ana.say("/contact")
    await ana.press("Cuando las cosas se vean difíciles")
    link = next(w for w in ana.last_text().split() if "?start=" in w)
    rosa = bot.person(4001, "Rosa", language_code="en")
    await rosa.say("/start " + link.rsplit("=", 1)[1])
    assert "Ana quiere que seas su persona de apoyo" in rosa.last_text()
    assert "🌐 English" in buttons(rosa.last())
    await rosa.press("Sí, cuenta conmigo")
    await bot.dispatch()
    assert "Rosa aceptó" in ana.last_text()
    await ana.say("/sos")
    await bot.dispatch()
    assert "Ana nos pidió avisarte" in rosa.last_text()
    await rosa.say("/help")
    assert "Eres una persona de apoyo" in rosa.last_text()

    # Her data, then deleting it.
    await ana.say("/mydata")
    assert "Aquí está todo lo que guardo sobre ti, Ana" in ana.last()["text"]
    await ana.say("/deleteme")
    await ana.press("Borrar mis datos…")
    await ana.press("Sí, borrar todo")
    assert "Tus datos están borrados" in ana.last_text()
    await bot.dispatch()
    assert "La persona a quien apoyabas lo terminó" in rosa.last_text()

    assert english_in(ana) == []
    assert english_in(rosa) == []


async def test_a_contact_can_switch_language(bot):
    dana = await register_counselor(bot)
    ana = await enroll_in_spanish(bot, dana)
    await ana.say("/contact")
    await ana.press("Solo en una crisis")
    link = next(w for w in ana.last_text().split() if "?start=" in w)
    lee = bot.person(4002, "Lee")
    await lee.say("/start " + link.rsplit("=", 1)[1])
    await lee.press("🌐 English")
    assert "Ana would like you to be their support contact" in lee.last_text()
    assert "🌐 Español" in buttons(lee.last())
    await lee.press("Yes, I'll be there")
    assert "I'll let you know here" in lee.last_text()
    await bot.dispatch()
    assert "Lee aceptó" in ana.last_text()  # Ana still reads Spanish
    await ana.say("/sos")
    await bot.dispatch()
    assert "Ana asked us to let you know" in lee.last_text()


async def test_the_first_message_follows_telegram_and_can_switch(bot):
    dana = await register_counselor(bot)
    link = await invite_link(dana, "Sam")
    sam = bot.person(2002, "Sam", language_code="es")
    await sam.say("/start " + link.rsplit("=", 1)[1])
    await sam.press("🌐 English")
    assert "Welcome, Sam." in sam.last_text()
    assert "🌐 Español" in buttons(sam.last())
    await sam.press("Yes, I agree")
    assert "What time zone are you in?" in sam.last_text()
    assert (await participant_row(bot, 2002)).language == "en"
    # A language we don't ship: English, with the switch.
    link = await invite_link(dana, "Kim")
    kim = bot.person(2003, "Kim", language_code="fr")
    await kim.say("/start " + link.rsplit("=", 1)[1])
    assert "Welcome, Kim." in kim.last_text() and "🌐 Español" in buttons(kim.last())
    # Someone without a link reads the stranger's help in their Telegram's language.
    stranger = bot.person(2004, "Ida", language_code="es-MX")
    await stranger.say("hola")
    assert "necesitas un enlace personal" in stranger.last_text()


async def test_switching_language_mid_check_in_keeps_every_answer(bot):
    dana = await register_counselor(bot)
    ana = await enroll_in_spanish(bot, dana)
    await ana.say("/checkin")
    await ana.press("4")
    question = ana.last()  # cravings, asked in Spanish
    assert "ganas de consumir" in question["text"]
    await ana.say("/settings")
    await ana.press("Idioma")
    await ana.press("English")
    assert "I'll write to you in English" in ana.last_text()
    assert buttons(ana.last()) == ["🆘 I need help now"]
    await ana.press("3", question)  # the question asked before the switch still works
    assert "Have you used alcohol or drugs" in ana.last_text()
    await ana.say("no")
    await ana.press(buttons(ana.last())[0])
    assert "Thank you for checking in, Ana" in ana.last_text()
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Answer)) == 4


def test_spanish_dates_and_typed_words():
    from messages import medication as med
    from messages import render
    from messages.answers import parse_weekday

    today = datetime(2026, 1, 5).date()  # a Monday
    at = datetime(2026, 1, 8, 9, 30, tzinfo=NEW_YORK)
    assert render.when(SPANISH, at.replace(day=5), today) == "hoy a las 09:30"
    assert render.when(SPANISH, at.replace(day=6), today) == "mañana a las 09:30"
    assert render.when(SPANISH, at, today) == "el jueves 8 de enero a las 09:30"
    assert render.day_and_time(SPANISH, at) == "jueves 8 de enero, 09:30"
    assert render.stamp(SPANISH, at) == "jue 8 ene 2026, 09:30 EST"
    assert render.every(SPANISH, 5) == "sábados"
    english = load_catalogs().default
    assert render.when(english, at, today) == "on Thu 8 Jan at 09:30"
    assert render.every(english, 0) == "Mondays"
    names = SPANISH.dates.weekdays
    for typed, day in [("miércoles", 2), ("miercoles", 2), ("Mié", 2), ("sábados", 5),
                       ("lunes", 0), ("mar", 1), ("do", 6), ("Monday", 0), ("tue", 1)]:  # fmt: skip
        assert parse_weekday(typed, names) == day, typed
    assert parse_weekday("lunes") is None  # without the Spanish names
    assert med.parse_date("3 de febrero", today, SPANISH.dates.months) == today.replace(
        month=2, day=3
    )
    assert med.parse_date("3 feb 2026", today, SPANISH.dates.months) == today.replace(
        month=2, day=3
    )
    assert med.parse_dose_times("08:00 y 20:00") == ("08:00", "20:00")


def test_spanish_crisis_words_are_screened():
    from messages.screen import screen

    for text in ("quiero morir", "me quiero matar", "no quiero vivir", "volví a consumir"):
        assert screen(text, SPANISH.screen).response is not None, text
