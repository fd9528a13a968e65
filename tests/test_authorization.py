"""The authorization matrix: every command in bot/app.py's routing table and every kind of
button in messages/callback_data.py, tried by each kind of person, over real HTTP.

The people: Sam (a participant), Lee (another participant, someone else's), Dana (Sam's own
counselor), Omar (another counselor, Lee's), Ada (an admin), Rosa (Sam's support contact) and
a stranger who never enrolled. Buttons carry real ids of things that are not the presser's:
Sam's check-in, alert, meeting, attendance, medication, dose and discharge; Lee's consent
(offered to Rosa). Commands that take a participant name Sam.

Each cell is allowed (and its effect is checked) or refused: a kind reply or toast, and the
whole database as it was (inbound_updates aside, which only makes delivery exactly-once).
Allowed or not, nobody's rows change but those the cell names. Every cell starts from the
same world: it is restored after any cell that changed something.

A command or a kind of button without a row here fails test_every_command_has_a_row or
test_every_kind_of_button_has_a_row.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import pytest
import pytest_asyncio
from sqlalchemy import select
from telegram.ext import CommandHandler
from yarl import URL

from bot.app import GROUP_MAIN
from bot.dashboard import server as dashboard_server
from bot.runner import import_meetings, read_feed
from db import medications as medication_db
from db import meetings as meeting_db
from db.models import Alert, CheckIn, Consent, Medication, Meeting, Participant
from messages import callback_data as cd
from messages.html import strip_html
from scheduler import meetings as meeting_work
from tests import dashboard, databases
from tests.conftest import BACKENDS
from tests.harness import BotHarness, Clock, Person, enroll_participant, register_counselor
from tests.snapshots import (
    NOT_PARTICIPANT_DATA,
    TABLES,
    Snapshot,
    describe,
    differences,
    errors_logged,
    fingerprint,
    participant_rows,
    participant_tables,
    restore,
    snapshot,
    snapshot_unless_same,
)
from tests.test_contacts import add_contact

in_world = pytest.mark.asyncio(loop_scope="module")  # one world per database, shared

FEED = Path(__file__).parent / "data" / "meeting_guide_feed.json"
ROLES = ("participant", "other_participant", "own_counselor", "other_counselor", "admin",
         "contact", "stranger")  # fmt: skip
PARTICIPANT_OF = {"participant": "sam", "other_participant": "lee"}


# --- the world --------------------------------------------------------------------------------


@dataclass
class World:
    bot: BotHarness
    people: dict[str, Person]
    ids: dict[str, Any]
    base: Snapshot = field(default_factory=dict)
    base_print: tuple = ()  # fingerprint() of base: most cells change nothing
    # The dashboard: its base URL, and an HTTP client (with its CSRF token) per web role.
    dashboard: str = ""
    web: dict[str, tuple[Any, str]] = field(default_factory=dict)

    def participant_id(self, who: str) -> int:
        return self.ids[who]


async def build_world(bot: BotHarness) -> World:
    """Everyone, and something of Sam's of every kind a button can point at."""
    ada = await register_counselor(bot, 1003, "Ada", admin=True)
    dana = await register_counselor(bot, 1001, "Dana")
    omar = await register_counselor(bot, 1002, "Omar")
    sam = await enroll_participant(bot, dana, 2001, "Sam")
    lee = await enroll_participant(bot, omar, 2002, "Lee")
    await import_meetings(bot.settings, read_feed(FEED, "America/New_York"), FEED.name,
                          bot.clock())  # fmt: skip
    rosa = await add_contact(bot, sam)
    await rosa.press("Yes, I'll be there")
    # Lee asks Rosa too; she has opened his link and not answered yet.
    await add_contact(bot, lee)
    await dana.say("/medication Sam methadone 09:30")
    await omar.say("/medication Lee methadone 09:30")
    await sam.say("/checkin")  # left open
    await sam.say("/sos")
    await lee.say("/sos")
    stranger = bot.person(3001, "Robin")
    await stranger.say("/help")

    ids: dict[str, Any] = {}
    now = bot.clock()
    async with bot.sessionmaker.begin() as session:
        people = {p.telegram_user_id: p for p in (await session.scalars(select(Participant)))}
        sam_row, lee_row = people[2001], people[2002]
        ids.update(sam=sam_row.id, lee=lee_row.id)
        checkin = await session.scalar(select(CheckIn).where(CheckIn.participant_id == sam_row.id))
        ids["checkin"] = checkin.id
        ids["answer_value"] = bot.catalog.questions[checkin.question_keys[0]].values()[0]
        alerts = {a.participant_id: a for a in await session.scalars(select(Alert))}
        ids.update(alert=alerts[sam_row.id].id, lee_alert=alerts[lee_row.id].id)
        consents = {c.participant_id: c for c in await session.scalars(select(Consent))}
        ids.update(consent=consents[sam_row.id].id, lee_consent=consents[lee_row.id].id)
        programs = list(await session.scalars(select(Meeting).order_by(Meeting.id)))
        offered = [m for m in programs if m.in_person or m.online]
        first, second = offered[0], offered[1]
        day = next(d for d in range(7) if first.day_mask & (1 << d))
        meeting = await meeting_db.add_from_program(session, sam_row.id, first, day, 60, now)
        meeting_work.start_schedule(meeting, now)
        ids["meeting"] = meeting.id
        ids["meeting_name"] = meeting.name
        ids["attendance"] = await meeting_db.ask_attendance(session, meeting, now, now)
        ids["program_meeting"] = second.id
        ids["program_day"] = next(d for d in range(7) if second.day_mask & (1 << d))
        medication = await session.scalar(
            select(Medication).where(Medication.participant_id == sam_row.id)
        )
        ids["medication"] = medication.id
        ids["dose"] = await medication_db.create_dose(session, medication, now, now)
    await bot.dispatch()
    people_ = dict(
        participant=sam, other_participant=lee, own_counselor=dana, other_counselor=omar,
        admin=ada, contact=rosa, stranger=stranger,
    )  # fmt: skip
    return World(bot, people_, ids)


@pytest.fixture(scope="module", params=BACKENDS)
def matrix_db_url(request, sqlite_template, tmp_path_factory):
    if request.param == "sqlite":
        return databases.sqlite_copy(sqlite_template, tmp_path_factory.mktemp("authorization"))
    url = request.getfixturevalue("postgres_database")
    asyncio.run(databases.empty_all(url))
    return url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(matrix_db_url):
    from tests.fake_telegram import FakeTelegram

    async with FakeTelegram(token="123456:MATRIX-secret", bot_username="aftercare_test_bot") as tg:
        clock = Clock(datetime(2026, 1, 5, 14, 0, tzinfo=UTC))
        port = dashboard.free_port()
        base = f"http://127.0.0.1:{port}"
        async with BotHarness(tg, matrix_db_url, clock, dashboard_url=base,
                              dashboard_listen=f"127.0.0.1:{port}") as bot:  # fmt: skip
            built = await build_world(bot)
            runner = await dashboard_server.start(bot.services, bot.app.bot)
            built.dashboard = base
            try:
                for role in WEB_ROLES:
                    http = (dashboard.client() if role == "signed_out" else
                            await dashboard.signed_in(bot, built.people[role], base))  # fmt: skip
                    csrf = "" if role == "signed_out" else await dashboard.csrf_of(http, base)
                    built.web[role] = (http, csrf)
                built.base = await snapshot(bot.sessionmaker)
                built.base_print = await fingerprint(bot.sessionmaker)
                yield built
            finally:
                for http, _ in built.web.values():
                    await http.close()
                await dashboard_server.stop(runner)


# --- what a cell expects ----------------------------------------------------------------------


@dataclass
class Result:
    world: World
    person: Person
    replies: list[dict]
    toast: str | None
    answered: bool  # the button press was answered (with or without a toast)
    before: Snapshot
    after: Snapshot

    @property
    def text(self) -> str:
        return "\n".join(strip_html(m.get("text") or m.get("caption") or "") for m in self.replies)

    def rows(self, table: str) -> list[dict]:
        return list(self.after[table].values())

    def added(self, table: str) -> list[dict]:
        return [r for k, r in self.after[table].items() if k not in self.before[table]]

    def row(self, table: str, key: str) -> dict:
        return self.after[table][(self.world.ids[key],)]

    def audited(self, action: str) -> list[dict]:
        return [r for r in self.added("audit_log") if r["action"] == action]


Check = Callable[[Result], None]


@dataclass(frozen=True)
class Expect:
    allowed: bool
    check: Check | None = None
    # Whose rows may change: "sam", "lee", or "self" (the presser's, if a participant).
    touches: frozenset[str] = frozenset({"self"})
    says: str | None = None  # a refusal's reply should contain this


def ok(check: Check | None = None, touches: str = "self") -> Expect:
    return Expect(True, check, frozenset(touches.split()))


def same(says: str | None = None) -> Expect:
    """Allowed, and it only shows something: nothing in the database changes."""
    return Expect(True, lambda r: _unchanged(r, says), frozenset())


def refused(says: str | None = None) -> Expect:
    return Expect(False, says=says)


R = refused()


def changes(before: Snapshot, after: Snapshot, actor: int) -> list[str]:
    """What changed, but the actor's own "awaiting" row: which question their next typed
    message answers is routing, not data (any command sets it aside, any question asks)."""
    own = f"awaiting ({actor},)"
    return [c for c in differences(before, after) if not c.startswith(own)]


def _unchanged(result: Result, says: str | None) -> None:
    changed = changes(result.before, result.after, result.person.user_id)
    assert not changed, changed
    assert result.replies or result.answered
    if says:
        assert says in result.text + (result.toast or ""), result.text


def row(
    participant: Expect = R,
    other_participant: Expect | None = None,
    own_counselor: Expect = R,
    other_counselor: Expect = R,
    admin: Expect | None = None,
    contact: Expect = R,
    stranger: Expect = R,
) -> dict[str, Expect]:
    """One row of the matrix. Another participant does as the participant does for what is
    their own; an admin as the own counselor; everyone else is refused unless said."""
    return dict(
        participant=participant,
        other_participant=other_participant if other_participant is not None else participant,
        own_counselor=own_counselor,
        other_counselor=other_counselor,
        admin=admin if admin is not None else own_counselor,
        contact=contact,
        stranger=stranger,
    )


# --- checks of allowed effects ----------------------------------------------------------------


def replied(*words: str, absent: tuple[str, ...] = ()) -> Check:
    def check(r: Result) -> None:
        for word in words:
            assert word in r.text, r.text
        for word in absent:
            assert word not in r.text, r.text

    return check


def both(*checks: Check) -> Check:
    def check(r: Result) -> None:
        for each in checks:
            each(r)

    return check


def invite_made(r: Result) -> None:
    [invite] = r.added("invites")
    counselor = next(c for c in r.rows("counselors") if c["telegram_user_id"] == r.person.user_id)
    assert invite["created_by_counselor_id"] == counselor["id"] and "?start=" in r.text


def views_audited(action: str) -> Check:
    def check(r: Result) -> None:
        [entry] = r.audited(action)
        assert entry["actor"].startswith("counselor:")

    return check


def history_shown(r: Result) -> None:
    assert any("photo" in m for m in r.replies), r.replies
    [entry] = r.audited("history_viewed")
    assert entry["subject"] == f"participant:{r.world.ids['sam']}"


def alert_status(status: str) -> Check:
    def check(r: Result) -> None:
        assert r.row("alerts", "alert")["status"] == status

    return check


def asked(r: Result) -> dict:
    return next(a for a in r.rows("awaiting") if a["telegram_user_id"] == r.person.user_id)


def resolving(r: Result) -> None:
    question = asked(r)
    assert (question["kind"], question["ref_id"]) == ("resolution", r.world.ids["alert"])
    assert "note" in r.text


def sam_status(status: str) -> Check:
    def check(r: Result) -> None:
        assert r.row("participants", "sam")["status"] == status

    return check


def own_row(r: Result) -> dict:
    return next(p for p in r.rows("participants") if p["telegram_user_id"] == r.person.user_id)


def crisis_alert(r: Result) -> None:
    mine = [a for a in r.rows("alerts") if a["participant_id"] == own_row(r)["id"]]
    assert any(a["level"] == "crisis" and a["signals"] == 2 for a in mine), mine
    assert "988" in r.text


def checkin_asked(r: Result) -> None:
    assert "?" in r.text and r.replies[-1].get("reply_markup")


def coping_offered(r: Result) -> None:
    assert own_row(r)["last_coping_key"] is not None and r.replies


def paused(r: Result) -> None:
    assert own_row(r)["status"] == "paused"
    assert any(o["chat_id"] != r.person.chat_id for o in r.added("outbox"))  # counselor told


def medication_set(r: Result) -> None:
    [medication] = r.added("medications")
    assert medication["participant_id"] == r.world.ids["sam"] and medication["key"] == "clonidine"


def consent_revoked(r: Result) -> None:
    consent = r.row("consents", "consent")
    assert (consent["status"], consent["revoked_by"]) == ("revoked", "contact")


def consent_accepted(r: Result) -> None:
    assert r.row("consents", "lee_consent")["status"] == "accepted"


def answer_recorded(r: Result) -> None:
    [answer] = r.added("answers")
    assert answer["checkin_id"] == r.world.ids["checkin"] and answer["source"] == "button"


def meeting_added(r: Result) -> None:
    [meeting] = r.added("participant_meetings")
    assert meeting["participant_id"] == own_row(r)["id"]
    assert meeting["meeting_id"] == r.world.ids["program_meeting"]


def meeting_field(column: str, value: Any) -> Check:
    def check(r: Result) -> None:
        assert r.row("participant_meetings", "meeting")[column] == value

    return check


def attended(r: Result) -> None:
    assert r.row("attendance", "attendance")["answer"] == "yes"


def conversation_started(flow: str) -> Check:
    def check(r: Result) -> None:
        [conversation] = r.added("conversations")
        assert conversation["participant_id"] == own_row(r)["id"] and conversation["flow"] == flow

    return check


def reminders_toggled(r: Result) -> None:
    assert r.row("medications", "medication")["reminders"] is False


def dose_taken(r: Result) -> None:
    assert r.row("medication_doses", "dose")["answer"] == "taken"


def offered_in_spanish(r: Result) -> None:
    assert "¿Quieres ser su persona de apoyo?" in r.text, r.text


def settings_step(step: str) -> Check:
    def check(r: Result) -> None:
        assert (asked(r)["kind"], asked(r)["step"]) == ("settings", step)

    return check


def discharged(r: Result) -> None:
    assert r.row("participants", "sam")["status"] == "discharged"
    [entry] = r.audited("participant_discharged")
    assert entry["subject"] == f"participant:{r.world.ids['sam']}"


# --- the matrix: commands ---------------------------------------------------------------------


def data_exported(r: Result) -> None:
    assert any("document" in m for m in r.replies), r.replies
    [entry] = r.audited("data_exported")
    assert entry["subject"] == f"participant:{own_row(r)['id']}"


def erasure_asked(r: Result) -> None:
    assert own_row(r)["erasure_step"] is not None
    assert own_row(r)["status"] == "active"  # nothing is deleted before the confirmations


def dashboard_link(r: Result) -> None:
    [token] = r.added("dashboard_login_tokens")
    counselor = next(c for c in r.rows("counselors") if c["telegram_user_id"] == r.person.user_id)
    assert token["counselor_id"] == counselor["id"] and "/login/" in r.text


NOT_FOUND = refused("couldn't find")
COUNSELOR_LIST = dict(
    own_counselor=ok(both(replied("Sam", absent=("Lee",)), views_audited("caseload_viewed"))),
    other_counselor=ok(both(replied("Lee", absent=("Sam",)), views_audited("caseload_viewed"))),
    admin=ok(both(replied("Sam", "Lee"), views_audited("caseload_viewed"))),
)  # fmt: skip

# command -> (the text sent, the row)
COMMANDS: dict[str, tuple[str, dict[str, Expect]]] = {
    "start": ("/start", row(same(), own_counselor=same(), other_counselor=same(),
                            contact=same("support contact"), stranger=same("personal link"))),
    "help": ("/help", row(same("/checkin"), own_counselor=same("/caseload"),
                          other_counselor=same("/caseload"), contact=same("/stop"),
                          stranger=same("988"))),
    "invite": ("/invite Kim", row(own_counselor=ok(invite_made), other_counselor=ok(invite_made))),
    "flags": ("/flags", row(
        own_counselor=ok(both(replied("Sam", absent=("Lee",)), views_audited("flags_viewed"))),
        other_counselor=ok(both(replied("Lee", absent=("Sam",)), views_audited("flags_viewed"))),
        admin=ok(both(replied("Sam", "Lee"), views_audited("flags_viewed"))),
    )),
    "caseload": ("/caseload", row(**COUNSELOR_LIST)),
    "history": ("/history Sam", row(own_counselor=ok(history_shown, touches="sam"),
                                    other_counselor=NOT_FOUND)),
    "discharge": ("/discharge Sam", row(own_counselor=same("Discharge Sam"),
                                        other_counselor=NOT_FOUND)),
    "checkin": ("/checkin", row(ok(checkin_asked))),
    "sos": ("/sos", row(ok(crisis_alert), stranger=refused("988"))),
    "coping": ("/coping", row(ok(coping_offered))),
    "meetings": ("/meetings", row(same())),
    "plan": ("/plan", row(same())),
    "medication": ("/medication Sam clonidine 08:00", row(
        same("methadone"), own_counselor=ok(medication_set, touches="sam"),
        other_counselor=NOT_FOUND)),
    "contact": ("/contact", row(same())),
    "mydata": ("/mydata", row(ok(data_exported))),
    "deleteme": ("/deleteme", row(ok(erasure_asked))),
    "settings": ("/settings", row(same())),
    "pause": ("/pause 2", row(ok(paused))),
    "resume": ("/resume", row(same())),
    "dashboard": ("/dashboard", row(stranger=refused("988"), own_counselor=ok(dashboard_link),
                                    other_counselor=ok(dashboard_link))),
    "stop": ("/stop", row(refused("aren't anyone's"), contact=ok(consent_revoked, touches="sam"),
                          own_counselor=refused("aren't anyone's"),
                          other_counselor=refused("aren't anyone's"),
                          stranger=refused("aren't anyone's"))),
}  # fmt: skip


# --- the matrix: buttons ----------------------------------------------------------------------

Build = Callable[[dict[str, Any]], Any]
OWN_ONLY = row(ok())  # a participant's own set-up; nobody else's
NO_STEP = row()  # a set-up step nobody is at: refused for everyone, stale for participants

# case name -> (the button, built from the world's ids; the row)
BUTTONS: dict[str, tuple[Build, dict[str, Expect]]] = {
    "answer": (lambda i: cd.AnswerButton(i["checkin"], 0, i["answer_value"]),
               row(ok(answer_recorded), other_participant=R)),
    "consent": (lambda i: cd.ConsentButton(True), NO_STEP),
    "timezone": (lambda i: cd.TimezoneButton("America/Chicago"), NO_STEP),
    "time": (lambda i: cd.TimeButton("08:00"), NO_STEP),
    "weekday": (lambda i: cd.WeekdayButton(2), NO_STEP),
    "coping": (lambda i: cd.CopingButton(), row(ok(coping_offered))),
    "sos": (lambda i: cd.SosButton(), row(ok(crisis_alert))),
    "alert_acknowledge": (lambda i: cd.AlertButton("a", i["alert"]),
                          row(own_counselor=ok(alert_status("acknowledged"), touches="sam"))),
    "alert_resolve": (lambda i: cd.AlertButton("r", i["alert"]),
                      row(own_counselor=ok(resolving, touches=""))),
    "alert_history": (lambda i: cd.AlertButton("h", i["alert"]),
                      row(own_counselor=ok(views_audited("history_viewed"), touches="sam"))),
    "contact_offer": (lambda i: cd.ContactOfferButton("h"), NO_STEP),  # both have a contact
    "contact_answer": (lambda i: cd.ContactAnswerButton(i["lee_consent"], True),
                       row(contact=ok(consent_accepted, touches="lee"))),
    "contact_language": (lambda i: cd.ContactLanguageButton(i["lee_consent"], "es"),
                         row(contact=ok(offered_in_spanish, touches=""))),
    "meeting_menu": (lambda i: cd.MeetingMenuButton("p"), row(same("day"))),
    "meeting_filter": (lambda i: cd.MeetingFilterButton("0", "-", "-", "-"), row(same())),
    "meeting_pick": (lambda i: cd.MeetingPickButton(i["program_meeting"], i["program_day"]),
                     row(ok(meeting_added))),
    "meeting_day": (lambda i: cd.MeetingDayButton(2), NO_STEP),
    "meeting_manage": (lambda i: cd.MeetingManageButton(i["meeting"]),
                       row(same(), other_participant=R)),
    "meeting_lead": (lambda i: cd.MeetingLeadButton(i["meeting"], 30),
                     row(ok(meeting_field("lead_minutes", 30)), other_participant=R)),
    "meeting_remove": (lambda i: cd.MeetingRemoveButton(i["meeting"]),
                       row(ok(meeting_field("status", "removed")), other_participant=R)),
    "attendance": (lambda i: cd.AttendanceButton(i["attendance"], "yes"),
                   row(ok(attended), other_participant=R)),
    "plan": (lambda i: cd.PlanButton("go"), row(ok(conversation_started("plan")))),
    "medication_setup": (lambda i: cd.MedicationSetupButton("a"),
                         row(ok(conversation_started("medication")))),
    "medication": (lambda i: cd.MedicationButton(i["medication"], "r"),
                   row(ok(reminders_toggled), other_participant=R)),
    "dose": (lambda i: cd.DoseButton(i["dose"], "t"), row(ok(dose_taken), other_participant=R)),
    "settings": (lambda i: cd.SettingsButton("time"), row(ok(settings_step("time")))),
    "quiet": (lambda i: cd.QuietButton("22:00-07:00"), NO_STEP),
    "language": (lambda i: cd.LanguageButton("en"), NO_STEP),
    "discharge": (lambda i: cd.DischargeButton(i["sam"], True),
                  row(own_counselor=ok(discharged, touches="sam"))),
    # No one has asked to delete their data: every /deleteme button is stale.
    "erasure": (lambda i: cd.ErasureButton("b", "not-the-nonce-1234"), NO_STEP),
    # No one has been asked "Are you safe right now?": the button is stale for everyone.
    "safety_ask": (lambda i: cd.SafetyAskButton(1, "h"), NO_STEP),
    "discharge_cancel": (lambda i: cd.DischargeButton(i["sam"], False),
                         row(own_counselor=same("nothing has changed"))),
    # A participant picked from a counselor's list: as if their number had been typed.
    "pick_history": (lambda i: cd.PickButton("h", i["sam"]),
                     row(own_counselor=ok(views_audited("history_viewed"), touches="sam"))),
    "pick_discharge": (lambda i: cd.PickButton("d", i["sam"]),
                       row(own_counselor=same("Sam"))),
    "pick_medication": (lambda i: cd.PickButton("m", i["sam"]),
                        row(own_counselor=same("Sam"))),
}  # fmt: skip


# --- every row, derived from the code ---------------------------------------------------------


def routed_commands(app) -> set[str]:
    return {
        command
        for handler in app.handlers[GROUP_MAIN]
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }


def button_classes() -> set[type]:
    """Every kind of callback data: the dataclasses the codec module defines, and the union
    the handlers decode to."""
    defined = {
        obj for _, obj in inspect.getmembers(cd, inspect.isclass)
        if dataclasses.is_dataclass(obj) and obj.__module__ == cd.__name__
    }  # fmt: skip
    return defined | set(get_args(cd.CallbackData))


@in_world
async def test_every_command_has_a_row(world):
    assert routed_commands(world.bot.app) == set(COMMANDS)


def test_every_kind_of_button_has_a_row():
    ids = dict.fromkeys(("checkin", "alert", "lee_consent", "meeting", "program_meeting",
                         "attendance", "medication", "dose", "sam"), 1)  # fmt: skip
    ids.update(answer_value="1", program_day=0)
    covered = {type(build(ids)) for build, _ in BUTTONS.values()}
    assert covered == button_classes()
    for build, _ in BUTTONS.values():
        cd.encode(build(ids))  # each is a button we really make


@in_world
async def test_the_fingerprint_sees_a_microsecond_and_comes_back_after_a_restore(world):
    """The cells trust fingerprint() to say "nothing changed" (then they skip the snapshot):
    the smallest change to any row must change it, and a restore must give it back."""
    from sqlalchemy import update

    bot = world.bot
    assert await fingerprint(bot.sessionmaker) == world.base_print
    sam = world.base["participants"][(world.ids["sam"],)]
    async with bot.sessionmaker.begin() as session:
        await session.execute(update(Participant).where(Participant.id == world.ids["sam"])
                              .values(created_at=sam["created_at"] + timedelta(microseconds=1)))
    try:
        assert await fingerprint(bot.sessionmaker) != world.base_print
    finally:
        await restore(bot.sessionmaker, world.base)
    assert await fingerprint(bot.sessionmaker) == world.base_print


def test_every_table_is_someones_or_said_to_be_nobodys():
    # "Nobody else's rows changed" is only as good as knowing whose rows are whose.
    theirs = participant_tables()
    assert theirs | NOT_PARTICIPANT_DATA == set(TABLES)
    assert not theirs & NOT_PARTICIPANT_DATA


def test_every_row_has_every_role():
    for name, (_, cells) in {**COMMANDS, **BUTTONS}.items():
        assert tuple(cells) == ROLES, name


# --- running a cell ---------------------------------------------------------------------------


def _pressable(person: Person) -> int:
    """The message to press on: the newest with buttons (as a real press would be)."""
    sent = person.messages()
    with_buttons = [m for m in sent if (m.get("reply_markup") or {}).get("inline_keyboard")]
    return (with_buttons or sent)[-1]["message_id"]


async def run_cell(world: World, role: str, act: Callable[[Person], Awaitable[list[dict]]],
                   expect: Expect, typed: str = "") -> None:  # fmt: skip
    bot, person = world.bot, world.people[role]
    before = world.base
    person.last_callback_answer = None
    after: Snapshot | None = None
    try:
        with errors_logged() as errors:
            replies = await act(person)
        answer = getattr(person, "last_callback_answer", None)
        toast = (answer or {}).get("text")
        after = await snapshot_unless_same(bot.sessionmaker, before, world.base_print)
        assert not errors, describe(errors)
        result = Result(world, person, replies, toast, answer is not None, before, after)
        if expect.allowed:
            if expect.check is not None:
                expect.check(result)
        else:
            assert result.replies or toast, "a refusal still gets a kind reply or toast"
            if replies:
                assert "error" not in result.text.lower() and "wrong" not in result.text.lower()
            if expect.says:
                assert expect.says in result.text + (toast or ""), result.text + str(toast)
            # A refusal shows nothing of anyone else's: no other participant's name or meeting.
            # (What they typed may be quoted back: "I couldn't find "Sam" in your caseload".)
            shown = result.text + (toast or "")
            for word in typed.split()[1:]:
                shown = shown.replace(f'"{word}"', "")
            own = {"participant": "Sam", "other_participant": "Lee"}.get(role)
            for private in {"Sam", "Lee", world.ids["meeting_name"]} - {own}:
                assert private not in shown, result.text
            changed = changes(before, after, person.user_id)
            assert not changed, "refused, yet the database changed:\n" + "\n".join(changed)
        # Whatever happened, nobody else's rows changed.
        touched = {PARTICIPANT_OF.get(role) if t == "self" else t for t in expect.touches}
        for who in ("sam", "lee"):
            if who not in touched:
                mine_before = participant_rows(before, world.ids[who])
                mine_after = participant_rows(after, world.ids[who])
                changed = differences(mine_before, mine_after)
                assert not changed, f"{who}'s rows changed:\n" + "\n".join(changed)
    finally:
        if after is None:
            after = await snapshot_unless_same(bot.sessionmaker, before, world.base_print)
        if after != before:
            await restore(bot.sessionmaker, before)


def _cells(table: dict) -> list:
    return [pytest.param(name, role, id=f"{name}-{role}") for name in table for role in ROLES]


@in_world
@pytest.mark.parametrize(("command", "role"), _cells(COMMANDS))
async def test_command(world, command, role):
    text, cells = COMMANDS[command]
    await run_cell(world, role, lambda person: person.say(text), cells[role], typed=text)


@in_world
@pytest.mark.parametrize(("button", "role"), _cells(BUTTONS))
async def test_button(world, button, role):
    build, cells = BUTTONS[button]
    data = cd.encode(build(world.ids))

    async def press(person: Person) -> list[dict]:
        return await person.press_data(_pressable(person), data)

    await run_cell(world, role, press, cells[role])


# --- the matrix: dashboard routes -------------------------------------------------------------
# Who can be signed in: counselors and admins (only they get a link from /dashboard, as the
# command row shows); "signed_out" is anyone else's browser, with no session.

WEB_ROLES = ("own_counselor", "other_counselor", "admin", "signed_out")
# Reached without a session by design: the one-time link's page and its Continue (the token is
# the credential), the signed-out page, the static files.
WEB_PUBLIC = {("GET", "/login/{token}"), ("POST", "/login"), ("GET", "/signed-out")}


@dataclass(frozen=True)
class Web:
    status: int
    shows: tuple[str, ...] = ()
    hides: tuple[str, ...] = ()
    audited: str | None = None  # a view: only this audit entry is added
    check: Callable[[Snapshot, Snapshot, dict], None] | None = None  # an allowed change


def web_row(own: Web, other: Web, admin: Web | None = None,
            signed_out: Web | None = None, post: bool = False) -> dict[str, Web]:  # fmt: skip
    return dict(own_counselor=own, other_counselor=other, admin=admin or own,
                signed_out=signed_out or Web(403 if post else 401))  # fmt: skip


def alert_now(status: str) -> Callable[[Snapshot, Snapshot, dict], None]:
    def check(before: Snapshot, after: Snapshot, ids: dict) -> None:
        assert after["alerts"][(ids["alert"],)]["status"] == status

    return check


def session_ended(before: Snapshot, after: Snapshot, ids: dict) -> None:
    ended = [k for k, r in after["dashboard_sessions"].items()
             if r["ended_at"] and not before["dashboard_sessions"][k]["ended_at"]]  # fmt: skip
    assert len(ended) == 1


NOT_THEIRS = Web(404, hides=("Sam",))
ADMINS_ONLY = Web(403)

# (method, route, the path built from the world's ids, the form) -> the row
WEB: dict[tuple[str, str], tuple[Callable[[dict], str], dict[str, str], dict[str, Web]]] = {
    ("GET", "/"): (lambda i: "/", {}, web_row(
        Web(200, ("Sam",), ("Lee",), "caseload_viewed"), Web(200, ("Lee",), ("Sam",),
        "caseload_viewed"), Web(200, ("Sam", "Lee"), (), "caseload_viewed"))),
    ("GET", "/alerts"): (lambda i: "/alerts", {}, web_row(
        Web(200, ("Sam",), ("Lee",), "flags_viewed"), Web(200, ("Lee",), ("Sam",), "flags_viewed"),
        Web(200, ("Sam", "Lee"), (), "flags_viewed"))),
    ("GET", "/alerts/{id}"): (lambda i: f"/alerts/{i['alert']}", {},
                              web_row(Web(303), NOT_THEIRS)),
    ("POST", "/alerts/{id}/acknowledge"): (lambda i: f"/alerts/{i['alert']}/acknowledge", {},
        web_row(Web(303, check=alert_now("acknowledged")), NOT_THEIRS, post=True)),
    ("POST", "/alerts/{id}/resolve"): (lambda i: f"/alerts/{i['alert']}/resolve",
        {"note": "Called; safe."},
        web_row(Web(303, check=alert_now("resolved")), NOT_THEIRS, post=True)),
    ("GET", "/participants/{id}"): (lambda i: f"/participants/{i['sam']}", {},
        web_row(Web(200, ("Sam",), ("Lee",), "participant_viewed"), NOT_THEIRS)),
    ("GET", "/program"): (lambda i: "/program", {}, web_row(
        ADMINS_ONLY, ADMINS_ONLY, Web(200, ("Caseload per counselor",)))),
    ("GET", "/program/{figure}.csv"): (lambda i: "/program/caseload.csv", {}, web_row(
        ADMINS_ONLY, ADMINS_ONLY, Web(200, ("Dana",), (), "figures_exported"))),
    ("POST", "/logout"): (lambda i: "/logout", {},
                          web_row(Web(303, check=session_ended), Web(303, check=session_ended),
                                  post=True)),
}  # fmt: skip


@in_world
async def test_every_dashboard_route_has_a_row(world):
    app = dashboard_server.build_app(world.bot.services, world.bot.app.bot)
    routes = {(r.method, r.resource.canonical) for r in app.router.routes()
              if r.method in ("GET", "POST") and not r.resource.canonical.startswith("/static")}
    assert routes == set(WEB) | WEB_PUBLIC
    for _, _, cells in WEB.values():
        assert tuple(cells) == WEB_ROLES


@in_world
@pytest.mark.parametrize(("route", "role"), [
    pytest.param(route, role, id=f"{route[0]} {route[1]}-{role}") for route in WEB
    for role in WEB_ROLES])  # fmt: skip
async def test_dashboard_route(world, route, role):
    build, form, cells = WEB[route]
    expect = cells[role]
    http, csrf = world.web[role]
    url = world.dashboard + build(world.ids)
    before = world.base
    after: Snapshot | None = None
    cookies = {c.key: c.value for c in http.cookie_jar}  # a logout cell clears them
    try:
        if route[0] == "GET":
            response = await http.get(url, allow_redirects=False)
        else:
            data = {**form, "csrf": csrf} if csrf else dict(form)
            response = await http.post(url, data=data, allow_redirects=False,
                                       headers={"Origin": world.dashboard})  # fmt: skip
        async with response:
            text = await response.text()
            assert response.status == expect.status, (response.status, text[:300])
            assert response.headers["Cache-Control"] == "no-store"
        for word in expect.shows:
            assert word in text, word
        for word in expect.hides:
            assert word not in text, word
        after = await snapshot_unless_same(world.bot.sessionmaker, before, world.base_print)
        changed = differences(before, after)
        if expect.check is not None:
            expect.check(before, after, world.ids)
            lee_before = participant_rows(before, world.ids["lee"])
            assert not differences(lee_before, participant_rows(after, world.ids["lee"]))
        elif expect.audited is not None:
            actions = [r["action"] for k, r in after["audit_log"].items()
                       if k not in before["audit_log"]]  # fmt: skip
            assert actions == [expect.audited], actions
            assert all(c.startswith("audit_log") for c in changed), changed
        else:
            assert not changed, "refused or read-only, yet the database changed:\n" + "\n".join(
                changed
            )
    finally:
        http.cookie_jar.update_cookies(cookies, response_url=URL(world.dashboard))
        if after is None:
            after = await snapshot_unless_same(world.bot.sessionmaker, before, world.base_print)
        if after != before:
            await restore(world.bot.sessionmaker, before)
