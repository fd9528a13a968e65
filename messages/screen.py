"""The free-text screen: does a message speak of suicide, self-harm, an overdose (crisis), use
(lapse), or a strong craving? Pure. Two layers:

- the lexicon, the floor: patterns that are content ([screen_rules], [[screen_categories]]);
  an explicit phrase always fires. A match is set aside only when a negation word stands right
  before it with nothing between them but small filler words ("i am not going to use", "i do
  not want to die"); anything else, a double negative included, counts;
- the learned model (messages/screen_model.py), whose scores decide the rest against
  thresholds that are content too ([screen_thresholds]).

For crisis there are three outcomes: crisis (resources and an alert), ask (a direct "are you
safe right now?") and none. Lapse and craving are flagged on their own, so a message can be
asked about and still get the lapse response. The single `response` is the most urgent:
crisis > ask > lapse > craving.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace

from messages.catalog import ScreenRules, ScreenThresholds

RESPONSE_ORDER = ("craving", "lapse", "ask", "crisis")  # least to most urgent
CATEGORY_OF = {"crisis": "crisis", "lapse": "lapse", "craving": "craving"}

# Spelled-out forms, so patterns and negation see one spelling. Applied to whole words.
_CONTRACTIONS = {
    "dont": "do not", "doesnt": "does not", "didnt": "did not", "cant": "can not",
    "cannot": "can not", "wont": "will not", "wouldnt": "would not", "couldnt": "could not",
    "shouldnt": "should not", "isnt": "is not", "arent": "are not", "wasnt": "was not",
    "werent": "were not", "havent": "have not", "hasnt": "has not", "hadnt": "had not",
    "aint": "am not", "im": "i am", "ive": "i have", "id": "i would",
    "wanna": "want to", "gonna": "going to", "gotta": "got to", "tryna": "trying to",
    "u": "you", "ur": "your", "2": "to", "4": "for", "lifes": "life is", "its": "it is",
    "myslef": "myself", "mysef": "myself", "kil": "kill", "noone": "no one", "theyd": "they would",
    "ima": "i am going to", "imma": "i am going to", "rn": "right now", "r": "are", "bc": "because",
    "drinkin": "drinking", "usin": "using", "smokin": "smoking", "thinkin": "thinking",
    "tho": "though", "hes": "he is", "shes": "she is", "wheres": "where is",
}  # fmt: skip
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})
_CLAUSE_BREAK = re.compile(r"[.;!?,\n]+|\bbut\b|\bthough\b|\bhowever\b|\bexcept\b")
_NOT_WORD = re.compile(r"[^a-z0-9 ]+")
_REPEATS = re.compile(r"(.)\1{2,}")


@dataclass(frozen=True)
class ScreenResult:
    response: str | None = None  # the most urgent: crisis | ask | lapse | craving
    categories: tuple[str, ...] = ()  # flagged, of crisis (a crisis or an ask), lapse, craving
    scores: dict[str, float] = field(default_factory=dict)  # the model's, by category
    why: dict[str, str] = field(default_factory=dict)  # category -> the phrase, or the score
    topics: tuple[str, ...] = ()  # the lexicon's categories that matched ("suicide", "use")

    @property
    def crisis(self) -> bool:
        return self.response == "crisis"

    @property
    def ask(self) -> bool:
        return self.response == "ask"

    @property
    def lapse(self) -> bool:
        return "lapse" in self.categories

    @property
    def craving(self) -> bool:
        return "craving" in self.categories

    def explain(self) -> str:
        """Why, in words: "crisis: the words “kill myself”; lapse: model score 0.91"."""
        return "; ".join(f"{category}: {self.why[category]}" for category in self.categories)


def decide(
    phrases: dict[str, str],
    scores: dict[str, float],
    thresholds: ScreenThresholds,
    hints: dict[str, str] | None = None,
    negated: dict[str, str] | None = None,
    short: bool = False,
) -> ScreenResult:
    """The outcome from the lexicon's explicit phrases, broad hints and negated phrases
    (category -> the words that matched) and the model's scores (category -> 0..1; empty without
    a model). A phrase always fires; a hint lowers the bar for the direct question; words the
    lexicon found negated ("i do not want to die") raise the model's bar to `negated`, with no
    question below it, for that category, and for lapse and craving when the message has no
    explicit phrase at all: the model reads words, and barely reads "not". A `short` message
    (fewer than `model_short_words` words) is one the corpus has few of and the model reads
    poorly ("I don't know the time" scored 0.56 for crisis): its score brings the question
    as ever, but crisis, lapse and craving need at least `short`."""
    hints, negated = hints or {}, negated or {}
    if short:
        bar = thresholds.short
        thresholds = replace(thresholds, crisis=max(thresholds.crisis, bar),
                             lapse=max(thresholds.lapse, bar),
                             craving=max(thresholds.craving, bar))  # fmt: skip
    why: dict[str, str] = {}
    flagged: list[str] = []
    crisis_outcome = None
    for category, at in (("crisis", thresholds.crisis), ("lapse", thresholds.lapse),
                         ("craving", thresholds.craving)):  # fmt: skip
        score = scores.get(category)
        hint = f" (the words “{hints[category]}”)" if category in hints else ""
        # Words the lexicon found negated, and no explicit phrase anywhere: a denial ("i am not
        # going to use tonight"), read as one for lapse and craving. Not for crisis, unless its
        # own words were negated: "no bebí y ya no aguanto más" is no denial of danger (and
        # leave-one-writer-out lost no crisis for it, at two calm alarms in 3,852).
        denial = bool(negated and not phrases and category != "crisis")
        denied = (category in negated or denial) and category not in hints
        if denied:
            at = max(at, thresholds.negated)
        if category in phrases:
            why[category] = f"the words “{phrases[category]}”"
        elif score is not None and score >= at:
            why[category] = f"model score {score:.2f}{hint}"
        elif category == "crisis" and not denied and score is not None and score >= min(
            thresholds.ask, thresholds.hinted if hint else 1.0
        ):
            why[category] = f"model score {score:.2f}{hint}: not sure, so asked"
            crisis_outcome = "ask"
        else:
            continue
        flagged.append(category)
        if category == "crisis" and crisis_outcome is None:
            crisis_outcome = "crisis"
    responses = [crisis_outcome if c == "crisis" else c for c in flagged]
    response = max(responses, key=RESPONSE_ORDER.index) if responses else None
    return ScreenResult(response, tuple(flagged), dict(scores), why)


def normalize(text: str) -> str:
    """Lower case, plain letters, contractions spelled out, one space between words."""
    text = text.translate(_APOSTROPHES)
    if not text.isascii():  # plain ASCII has no accents to take off
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.lower().replace("'", "")
    clauses = []
    for clause in _CLAUSE_BREAK.split(text):
        words = _NOT_WORD.sub(" ", clause).split()
        words = [_CONTRACTIONS.get(w, w) for w in words]
        # Long repeats are emphasis ("dieeee", "sooo"): keep two letters at most.
        clauses.append(_REPEATS.sub(r"\1\1", " ".join(words)))
    return " . ".join(c for c in clauses if c)


def _negated(before: str, rules: ScreenRules) -> bool:
    """True when the words right before a match are a negation plus only filler words."""
    words = before.split()
    for index in range(len(words) - 1, -1, -1):
        word = words[index]
        if word in rules.negations:
            return True
        if word not in rules.fillers:
            return False
    return False


def _scan(patterns: tuple[re.Pattern[str], ...], clauses: list[str], rules: ScreenRules):
    """(the first words a pattern matched with no negation right before them, in the patterns'
    order; the first words any pattern matched, negated or not, in the same order). One pass
    gives both: the second is what a negation set aside when the first is None."""
    first_any = None
    for pattern in patterns:
        for clause in clauses:
            for m in pattern.finditer(clause):
                if first_any is None:
                    first_any = m.group(0)
                if not _negated(clause[: m.start()], rules):
                    if m.group(0):  # the first one in this clause; an empty match is none
                        return m.group(0), first_any
                    break
    return None, first_any


@dataclass(frozen=True)
class LexiconMatch:
    phrases: dict[str, str]  # response -> the first explicit phrase that matched
    hints: dict[str, str]  # response -> the first broad word that matched
    topics: tuple[str, ...]  # the categories whose explicit phrases matched ("suicide", "use")
    negated: dict[str, str] = field(default_factory=dict)  # response -> words set aside


def lexicon(text: str, rules: ScreenRules) -> LexiconMatch:
    """The lexicon alone."""
    return _lexicon(normalize(text), rules)


def _lexicon(normalized: str, rules: ScreenRules) -> LexiconMatch:
    for idiom in rules.idioms:
        if idiom in normalized:  # the words first: most messages hold no idiom
            normalized = re.sub(rf"\b{re.escape(idiom)}\b", " ", normalized)
    clauses = normalized.split(" . ")
    if rules.stories is not None:
        # A story from years ago, or a question someone asked: its phrases are not the writer's
        # present, so the model decides as it does with no phrase (and asks when unsure); the
        # bar is not raised, as it is for a denial, since the rest may be about now.
        clauses = [c for c in clauses if not rules.stories.search(c)]
    phrases: dict[str, str] = {}
    hints: dict[str, str] = {}
    topics: list[str] = []
    negated: dict[str, str] = {}
    for category in rules.categories:
        # Only the clauses where one of the category's patterns or hints matches can hold a
        # match of any one of them: most messages skip most categories in one search a clause.
        where = clauses if category.any is None else [c for c in clauses if category.any.search(c)]
        if not where:
            continue
        found, set_aside = _scan(category.patterns, where, rules)
        if found is not None:
            topics.append(category.name)
            phrases.setdefault(category.response, found)
            continue
        if category.response not in hints:
            hint, hint_set_aside = _scan(category.hints, where, rules)
            if hint:
                hints[category.response] = hint
                continue
        else:  # a hint is already named: only a hint here that a negation set aside counts
            hint, first_hint = _scan(category.hints, where, rules)
            hint_set_aside = first_hint if hint is None else None
        words = set_aside if set_aside is not None else hint_set_aside
        if category.response not in negated and words:
            negated[category.response] = words
    return LexiconMatch(phrases, hints, tuple(topics), negated)


def model_reads(text: str, rules: ScreenRules) -> bool:
    """Whether the model has enough to go on: at least `model_min_words` words with letters.
    A bare number, "thanks" or "ok" carries no evidence, and its score is the model's prior;
    those are the lexicon's alone."""
    return _reads(_words(normalize(text)), rules)


def _words(normalized: str) -> int:
    """Words with letters: numbers and emoji alone carry nothing the model reads."""
    return sum(1 for w in normalized.split() if any(c.isalpha() for c in w))


def _reads(words: int, rules: ScreenRules) -> bool:
    return rules.model is not None and words >= rules.thresholds.model_min_words


def is_short(text: str, rules: ScreenRules) -> bool:
    """Fewer words than `model_short_words`: the model's score alone needs at least `short`
    for anything but the question (decide)."""
    return _words(normalize(text)) < rules.thresholds.model_short_words


def screen(text: str, rules: ScreenRules) -> ScreenResult:
    normalized = normalize(text)
    found = _lexicon(normalized, rules)
    words = _words(normalized)  # once: the model's floor and the short-message rule both read it
    scores = rules.trained_model().scores(text) if _reads(words, rules) else {}
    short = words < rules.thresholds.model_short_words
    result = decide(found.phrases, scores, rules.thresholds, found.hints, found.negated, short)
    return replace(result, topics=found.topics)


def language_of(text: str, rules: ScreenRules) -> str:
    """es" or "pt" when the message has at least two marker words of that language (content:
    [screen_languages]), else "en". Spanglish counts as Spanish: Spanish resources added to a
    message that needed fewer cost nothing."""
    words = normalize(text).split()
    spanish = sum(w in rules.languages.get("es", ()) for w in words)
    portuguese = sum(w in rules.languages.get("pt", ()) for w in words)
    if max(spanish, portuguese) < 2:
        return "en"
    return "es" if spanish >= portuguese else "pt"
