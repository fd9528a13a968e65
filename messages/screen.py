"""The free-text screen: does a participant's message speak of suicide, self-harm, an overdose,
use, or a strong craving? Pure; the patterns and negation words are content ([screen_rules],
[[screen_categories]]).

It leans towards alarm. A match is set aside only when a negation word stands right before it
with nothing between them but small filler words ("i am not going to use", "i do not want to
die"). Anything else, a double negative included ("i can not stop thinking about killing
myself"), counts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from messages.catalog import ScreenRules

RESPONSE_ORDER = ("craving", "lapse", "crisis")  # least to most urgent

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


@dataclass(frozen=True)
class ScreenResult:
    categories: tuple[str, ...] = ()  # e.g. ("suicide", "use")
    response: str | None = None  # the most urgent: crisis | lapse | craving

    @property
    def crisis(self) -> bool:
        return self.response == "crisis"


def normalize(text: str) -> str:
    """Lower case, plain letters, contractions spelled out, one space between words."""
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("'", "")
    clauses = []
    for clause in _CLAUSE_BREAK.split(text):
        words = _NOT_WORD.sub(" ", clause).split()
        words = [_CONTRACTIONS.get(w, w) for w in words]
        # Long repeats are emphasis ("dieeee", "sooo"): keep two letters at most.
        clauses.append(re.sub(r"(.)\1{2,}", r"\1\1", " ".join(words)))
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


def _matches(pattern: re.Pattern[str], clause: str, rules: ScreenRules) -> bool:
    return any(not _negated(clause[: m.start()], rules) for m in pattern.finditer(clause))


def screen(text: str, rules: ScreenRules) -> ScreenResult:
    normalized = normalize(text)
    for idiom in rules.idioms:
        normalized = re.sub(rf"\b{re.escape(idiom)}\b", " ", normalized)
    clauses = normalized.split(" . ")
    found: list[str] = []
    responses: set[str] = set()
    for category in rules.categories:
        if any(_matches(p, c, rules) for p in category.patterns for c in clauses):
            found.append(category.name)
            responses.add(category.response)
    if not found:
        return ScreenResult()
    response = max(responses, key=RESPONSE_ORDER.index)
    return ScreenResult(tuple(found), response)
