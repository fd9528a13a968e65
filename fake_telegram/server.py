"""A strict, in-process fake of the Telegram Bot API, built on aiohttp (the tests, the demo and
the bench use it; `aftercare fake-telegram` runs it on its own, see console.py).

The real python-telegram-bot (PTB) talks to it unmodified; only ``base_url`` and
``base_file_url`` change::

    async with FakeTelegram() as tg:
        app = (
            ApplicationBuilder().token(tg.token)
            .base_url(tg.base_url).base_file_url(tg.base_file_url).build()
        )
        ...
        tg.push_message(1001, "/start")            # a user writes to the bot
        [reply] = await tg.wait_for_sent(1001)      # what the bot answered

Every request is validated against the official Bot API description
(``bot-api.json``): unknown methods and parameters, missing required parameters,
wrong types and malformed nested objects are rejected the way Telegram rejects
them (HTTP 400 ``Bad Request: ...``). On top of that the fake enforces the limits
that bite bots in production: text length, callback_data size, Telegram-HTML
well-formedness, "message is not modified", answering a callback query twice...

Deliberate differences from Telegram (all of them stricter, never looser):

* Unknown parameters (top level and inside JSON objects) are rejected; Telegram
  silently ignores them.
* In HTML, a bare ``&`` that does not start ``&lt;`` ``&gt;`` ``&amp;`` ``&quot;``
  or a numeric entity is rejected (Telegram keeps it literally), and ``<a>``
  needs an ``href``. Both usually mean user text was not escaped.
* ``limit`` of getUpdates outside 1..100 is rejected instead of clamped.

Not simulated: webhook delivery (setWebhook is only bookkeeping, which makes
getUpdates answer 409 like Telegram), inline mode, payments, MarkdownV2 parsing
(accepted as-is), automatic entity detection (URLs, mentions) in sent text.
A valid call of a Bot API method the fake does not implement answers
``501 Not Implemented: the fake does not implement <method>`` (PTB: NetworkError);
add an ``_api_<method>`` handler when the bot starts using one.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import random
import re
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from http import HTTPStatus
from pathlib import Path
from typing import Any

from aiohttp import web

__all__ = [
    "ApiError",
    "BotApiSpec",
    "EntityParseError",
    "FakeTelegram",
    "FakeUser",
    "UploadedFile",
    "WaitTimeout",
    "parse_html",
]

# A copy of the shared Bot API description (10.1) travels with the repository.
DEFAULT_SPEC_PATH = Path(__file__).resolve().parent / "spec" / "bot-api.json"
SPEC_ENV_VAR = "TELEGRAM_BOT_API_SPEC"
DEFAULT_TOKEN = "123456:TEST-secret-token"  # noqa: S105 - a fake server's, not Telegram's

MAX_TEXT_LENGTH = 4096
PAID_BROADCAST_PER_SECOND = 1000  # allow_paid_broadcast's limit, instead of the free one
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_CALLBACK_DATA_BYTES = 64
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

# Methods that count against the rate limits (if enabled) and that a blocked user refuses.
SEND_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageReplyMarkup"}
)
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
# Update types Telegram does not deliver unless explicitly listed in allowed_updates.
OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CALLBACK_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, Telegram's description, parameters."""

    def __init__(self, status: int, description: str, parameters: dict | None = None):
        super().__init__(f"{status}: {description}")
        self.status = status
        self.description = description
        self.parameters = parameters


def bad_request(problem: str) -> ApiError:
    return ApiError(400, f"Bad Request: {problem}")


class WaitTimeout(AssertionError, TimeoutError):
    """Raised by FakeTelegram.wait_for* when the condition is not met in time."""


class EntityParseError(ValueError):
    """Text is not valid Telegram HTML; the message mimics Telegram's wording."""


class SpecError(ValueError):
    """A value does not match the Bot API description. ``deep`` marks errors found
    inside a value of the right kind (e.g. a dict missing a required field)."""

    def __init__(self, message: str, deep: bool = False):
        super().__init__(message)
        self.deep = deep


# --------------------------------------------------------------------------------------
# Telegram HTML
# --------------------------------------------------------------------------------------

_HTML_TAG_ENTITY = {
    "b": "bold", "strong": "bold",
    "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "span": "spoiler", "tg-spoiler": "spoiler",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}  # fmt: skip
_HTML_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_NUMERIC_ENTITY = re.compile(r"#(?:([0-9]{1,7})|[xX]([0-9a-fA-F]{1,6}))")
_HTML_SPACE = " \t\r\n\v\f"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of MessageEntity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _decode_html_entity(text: str, i: int) -> tuple[str, int] | None:
    """Decode the entity starting with the ``&`` at ``text[i]``: (character, next index)."""
    end = text.find(";", i + 1, i + 12)
    if end == -1:
        return None
    name = text[i + 1 : end]
    if name in _HTML_NAMED_ENTITIES:
        return _HTML_NAMED_ENTITIES[name], end + 1
    match = _HTML_NUMERIC_ENTITY.fullmatch(name)
    if match:
        code = int(match[1]) if match[1] else int(match[2], 16)
        if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            return chr(code), end + 1
    return None


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the output text
    byte_offset: int


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-flavoured HTML into (plain text, MessageEntity dicts).

    Raises EntityParseError with Telegram's wording ("Unsupported start tag "foo" at
    byte offset 12", "Can't find end tag corresponding to start tag "b"", ...).
    Byte offsets are UTF-8 offsets into the original text, like Telegram's.
    """
    out: list[str] = []
    pos = 0  # UTF-16 length of the output so far
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    n = len(text)

    def byte_offset(index: int) -> int:
        return len(text[:index].encode("utf-8"))

    def entity_at(index: int) -> tuple[str, int]:
        decoded = _decode_html_entity(text, index)
        if decoded is None:
            raise EntityParseError(
                f'Character "&" must be escaped as "&amp;" at byte offset {byte_offset(index)}'
            )
        return decoded

    i = 0
    while i < n:
        char = text[i]
        if char == "&":
            decoded, i = entity_at(i)
            out.append(decoded)
            pos += utf16_len(decoded)
            continue
        if char != "<":
            out.append(char)
            pos += utf16_len(char)
            i += 1
            continue

        begin = i
        at = byte_offset(begin)
        i += 1
        if i < n and text[i] == "/":  # ---- end tag
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {at}")
            j = i + 1
            while j < n and text[j] not in _HTML_SPACE and text[j] != ">":
                j += 1
            name = text[i + 1 : j].lower()
            while j < n and text[j] in _HTML_SPACE:
                j += 1
            if j >= n or text[j] != ">":
                raise EntityParseError(f"Unclosed end tag at byte offset {at}")
            tag = stack.pop()
            if name and name != tag.name:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {at}, expected "</{tag.name}>", '
                    f'found "</{name}>"'
                )
            i = j + 1
            entity = _html_entity(tag, pos, stack)
            if entity is not None:
                entities.append(entity)
            continue

        # ---- start tag
        j = i
        while j < n and text[j] not in _HTML_SPACE and text[j] != ">":
            j += 1
        if j >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {at}")
        name = text[i:j].lower()
        if name not in _HTML_TAG_ENTITY:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {at}')
        attrs: dict[str, str] = {}
        while True:
            while j < n and text[j] in _HTML_SPACE:
                j += 1
            if j >= n:
                raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {at}')
            if text[j] == ">":
                j += 1
                break
            k = j
            while k < n and text[k] not in _HTML_SPACE and text[k] not in "=>":
                k += 1
            attr = text[j:k].lower()
            if not attr:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {at}'
                )
            j = k
            while j < n and text[j] in _HTML_SPACE:
                j += 1
            if j >= n or text[j] != "=":
                if name == "blockquote" and attr == "expandable":
                    attrs[attr] = ""
                    continue
                raise EntityParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{name}" at byte offset {at}'
                )
            j += 1
            while j < n and text[j] in _HTML_SPACE:
                j += 1
            if j >= n:
                raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {at}')
            if text[j] in "\"'":
                quote = text[j]
                j += 1
                value: list[str] = []
                while j < n and text[j] != quote:
                    if text[j] == "&":
                        decoded, j = entity_at(j)
                        value.append(decoded)
                    else:
                        value.append(text[j])
                        j += 1
                if j >= n:
                    raise EntityParseError(f"Unclosed start tag at byte offset {at}")
                j += 1
                attrs[attr] = "".join(value)
            else:  # unquoted name token: letters, digits, periods, hyphens
                k = j
                while k < n and (text[k].isascii() and text[k].isalnum() or text[k] in ".-"):
                    k += 1
                if k >= n or (text[k] not in _HTML_SPACE and text[k] != ">"):
                    raise EntityParseError(
                        f"Unexpected end of name token at byte offset {byte_offset(k)}"
                    )
                attrs[attr] = text[j:k].lower()
                j = k
        i = j
        _check_html_tag(name, attrs, at)
        stack.append(_OpenTag(name, attrs, pos, at))

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _check_html_tag(name: str, attrs: dict[str, str], at: int) -> None:
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
    if name == "a" and not attrs.get("href"):
        raise EntityParseError(f'Tag "a" must have a non-empty "href" at byte offset {at}')
    if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
        raise EntityParseError("Invalid custom emoji identifier specified")


def _html_entity(tag: _OpenTag, end: int, stack: list[_OpenTag]) -> dict[str, Any] | None:
    """The MessageEntity for a closed tag (None if empty or merged into an outer <pre>)."""
    kind = _HTML_TAG_ENTITY[tag.name]
    language = tag.attrs.get("class", "")
    if kind == "code" and stack and stack[-1].name == "pre" and language.startswith("language-"):
        stack[-1].attrs["language"] = language.removeprefix("language-")
        return None  # <pre><code class="language-x"> becomes one pre entity with a language
    if end == tag.start:
        return None
    entity: dict[str, Any] = {"type": kind, "offset": tag.start, "length": end - tag.start}
    if kind == "text_link":
        entity["url"] = tag.attrs["href"]
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    elif kind == "pre" and tag.attrs.get("language"):
        entity["language"] = tag.attrs["language"]
    elif kind == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    return entity


def _strip_text(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Trim surrounding whitespace like Telegram does, shifting and clipping entities."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


# --------------------------------------------------------------------------------------
# The Bot API description and request validation
# --------------------------------------------------------------------------------------


@dataclass
class UploadedFile:
    """A file part of a multipart request; tests read what was sent from `content`."""

    field_name: str
    filename: str
    content_type: str
    size: int
    content: bytes = b""

    def info(self) -> dict[str, Any]:
        return {"file_name": self.filename, "mime_type": self.content_type, "size": self.size}


@dataclass
class _Uploads:
    files: dict[str, UploadedFile]
    used: set[str] = field(default_factory=set)

    def resolve(self, value: str) -> UploadedFile | None:
        name = value.removeprefix("attach://")
        if value.startswith("attach://") and name in self.files:
            self.used.add(name)
            return self.files[name]
        return None


_INTEGER = re.compile(r"-?[0-9]+")
_FLOAT = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_DISCRIMINATOR = re.compile(r'(?:must be|always)\s+"?([a-z_]+)"?')


class BotApiSpec:
    """The Bot API description (bot-api.json) and validation against it."""

    def __init__(self, data: dict[str, Any]):
        self.version: str = data.get("version", "unknown")
        self.methods: dict[str, dict] = data["methods"]
        self.types: dict[str, dict] = data["types"]
        self._by_lower = {name.lower(): name for name in self.methods}

    @staticmethod
    def load(path: str | os.PathLike[str] | None = None) -> BotApiSpec:
        """Load (once per file) from ``path``, $TELEGRAM_BOT_API_SPEC or the default."""
        resolved = Path(path or os.environ.get(SPEC_ENV_VAR) or DEFAULT_SPEC_PATH).resolve()
        if not resolved.is_file():
            raise FileNotFoundError(
                f"Bot API description not found at {resolved}; pass spec_path= "
                f"or set {SPEC_ENV_VAR}"
            )
        return _load_spec(resolved)

    def method_name(self, name: str) -> str | None:
        """The canonical name of a method (Telegram matches them case-insensitively)."""
        return self._by_lower.get(name.lower())

    @staticmethod
    def fields(definition: dict) -> dict[str, dict]:
        return {f["name"]: f for f in definition.get("fields", [])}

    def update_types(self) -> list[str]:
        return [name for name in self.fields(self.types["Update"]) if name != "update_id"]

    # ---- top-level parameters --------------------------------------------------------

    def check_params(
        self, method: str, raw: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        """Validate and decode the parameters of a call; raises ApiError (400)."""
        fields = self.fields(self.methods[method])
        uploads = _Uploads(files)
        raw = dict(raw)
        for name, upload in files.items():
            if name in fields and name not in raw:
                raw[name] = upload
                uploads.used.add(name)
        params: dict[str, Any] = {}
        for name, value in raw.items():
            if name not in fields:
                raise bad_request(f"unknown parameter {name}")
            params[name] = self._decode_param(name, value, fields[name]["types"], uploads)
        for name, spec_field in fields.items():
            if spec_field["required"] and name not in params:
                raise bad_request(_missing_param_message(name))
        unused = sorted(set(files) - uploads.used)
        if unused:
            raise bad_request(f"unknown parameter {unused[0]} (an unreferenced file)")
        return params

    def _decode_param(self, name: str, value: Any, types: list[str], uploads: _Uploads) -> Any:
        """Top-level values arrive as strings (query, form) or JSON values (JSON body).
        Strings are decoded per the declared types, in order, like Telegram does."""
        expected = " or ".join(types)
        if isinstance(value, UploadedFile):
            if "InputFile" in types:
                return value
            raise bad_request(f'parameter "{name}" must be of type {expected}, not a file')
        if not isinstance(value, str):
            try:
                self.check_value(value, types, name, uploads)
            except SpecError as exc:
                raise bad_request(f"can't parse {name}: {exc}") from None
            return value
        nested_error: SpecError | None = None
        for kind in types:
            if kind == "String":
                return value
            if kind == "Integer" and _INTEGER.fullmatch(value):
                return int(value)
            if kind == "Float" and _FLOAT.fullmatch(value):
                return float(value)
            if kind == "Boolean" and value.lower() in ("true", "false"):
                return value.lower() == "true"
            if kind == "InputFile":
                upload = uploads.resolve(value)
                if upload is not None:
                    return upload
                if value.startswith("attach://"):
                    raise bad_request(f'parameter "{name}" refers to a missing file part')
                continue
            if kind.startswith("Array of ") or kind in self.types:
                try:
                    decoded = json.loads(value)
                except ValueError:
                    continue
                try:
                    self.check_value(decoded, [kind], name, uploads)
                except SpecError as exc:
                    nested_error = nested_error or (exc if exc.deep else None)
                    continue
                return decoded
        if nested_error is not None:
            raise bad_request(f"can't parse {name}: {nested_error}")
        if any(k.startswith("Array of ") or k in self.types for k in types):
            raise bad_request(f"can't parse {name} JSON object: expected {expected}")
        raise bad_request(f'parameter "{name}" must be of type {expected}')

    # ---- nested JSON values (strict JSON types) ------------------------------------

    def check_value(
        self, value: Any, types: list[str], path: str, uploads: _Uploads | None = None
    ) -> None:
        """Raise SpecError unless ``value`` matches one of ``types`` (JSON-decoded)."""
        candidates = self._expand(types)
        objects = [t for t in candidates if t in self.types and "fields" in self.types[t]]
        if isinstance(value, dict) and len(objects) > 1:
            objects = self._rank_object_types(value, objects)
            errors = []
            for kind in objects:
                try:
                    self._check_object(value, kind, path, uploads)
                    return
                except SpecError as exc:
                    errors.append(exc)
            raise errors[0]
        errors = []
        for kind in candidates:
            try:
                self._check_one(value, kind, path, uploads)
                return
            except SpecError as exc:
                errors.append(exc)
        deep = [e for e in errors if e.deep]
        if deep:
            raise deep[0]
        raise SpecError(f'field "{path}" must be of type {" or ".join(types)}')

    def _expand(self, types: list[str]) -> list[str]:
        """Replace abstract types (BotCommandScope, ...) by their concrete subtypes."""
        result: list[str] = []
        for kind in types:
            definition = self.types.get(kind, {})
            if "subtypes" in definition:
                result.extend(self._expand(definition["subtypes"]))
            else:
                result.append(kind)
        return result

    def _discriminator(self, kind: str) -> tuple[str, str] | None:
        for spec_field in self.types[kind].get("fields", []):
            if spec_field["name"] in ("type", "status", "source"):
                match = _DISCRIMINATOR.search(spec_field["description"])
                if match:
                    return spec_field["name"], match[1]
        return None

    def _rank_object_types(self, value: dict, kinds: list[str]) -> list[str]:
        """Order candidate object types by how well ``value`` fits them."""
        for kind in kinds:
            disc = self._discriminator(kind)
            if disc and value.get(disc[0]) == disc[1]:
                return [kind]

        def fit(kind: str) -> tuple[int, int, int]:
            fields = self.fields(self.types[kind])
            required = [n for n, f in fields.items() if f["required"]]
            return (
                all(k in fields for k in value),
                sum(n in value for n in required) - len(required),
                sum(k in fields for k in value),
            )

        return sorted(kinds, key=fit, reverse=True)

    def _check_one(self, value: Any, kind: str, path: str, uploads: _Uploads | None) -> None:
        ok = True
        if kind == "Integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif kind == "Float":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif kind == "Boolean":
            ok = isinstance(value, bool)
        elif kind == "String":
            ok = isinstance(value, str)
        elif kind == "InputFile":
            ok = isinstance(value, UploadedFile) or bool(
                isinstance(value, str) and uploads and uploads.resolve(value)
            )
        elif kind.startswith("Array of "):
            if not isinstance(value, list):
                ok = False
            else:
                item_type = kind.removeprefix("Array of ")
                for index, item in enumerate(value):
                    try:
                        self.check_value(item, [item_type], f"{path}[{index}]", uploads)
                    except SpecError as exc:
                        raise SpecError(str(exc), deep=True) from None
        elif kind in self.types:
            self._check_object(value, kind, path, uploads)
        else:
            raise SpecError(f'field "{path}" has a type unknown to the spec: {kind}')
        if not ok:
            raise SpecError(f'field "{path}" must be of type {kind}')

    def _check_object(self, value: Any, kind: str, path: str, uploads: _Uploads | None) -> None:
        if not isinstance(value, dict):
            raise SpecError(f'field "{path}" must be an object ({kind})')
        fields = self.fields(self.types[kind])
        for key, item in value.items():
            if key not in fields:
                raise SpecError(f'unknown field "{path}.{key}" in {kind}', deep=True)
            try:
                self.check_value(item, fields[key]["types"], f"{path}.{key}", uploads)
            except SpecError as exc:
                raise SpecError(str(exc), deep=True) from None
        for key, spec_field in fields.items():
            if spec_field["required"] and key not in value:
                raise SpecError(f'field "{path}.{key}" is required in {kind}', deep=True)

    def validate(self, type_name: str, value: Any) -> None:
        """Check an object (e.g. a Message the fake produced) against the spec."""
        self.check_value(value, [type_name], type_name)


@lru_cache(maxsize=4)
def _load_spec(path: Path) -> BotApiSpec:
    return BotApiSpec(json.loads(path.read_text(encoding="utf-8")))


def _missing_param_message(name: str) -> str:
    if name == "text":
        return "message text is empty"
    if name == "chat_id":
        return "chat_id is empty"
    return f'parameter "{name}" is required'


# --------------------------------------------------------------------------------------
# The fake server
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FakeUser:
    """A handle on a Telegram user registered with the fake (private chat id == id)."""

    tg: FakeTelegram = field(repr=False, compare=False)
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"

    def to_dict(self) -> dict[str, Any]:
        user = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                user[key] = getattr(self, key)
        return user

    def send(self, text: str, **kwargs: Any) -> dict:
        """The user writes ``text`` to the bot (see FakeTelegram.push_message)."""
        return self.tg.push_message(self.id, text, **kwargs)

    def press(self, label: str, message: dict | None = None) -> str:
        """The user presses the inline button labelled ``label`` (see press_button)."""
        return self.tg.press_button(self.id, label, message=message)

    @property
    def sent(self) -> list[dict]:
        """What the bot sent to this user's private chat."""
        return self.tg.sent(self.id)

    @property
    def last(self) -> dict | None:
        return self.tg.last(self.id)


@dataclass
class _Chat:
    info: dict[str, Any]  # the Chat object as it appears inside messages
    next_message_id: int = 1
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)  # all, by message_id
    bot_message_ids: list[int] = field(default_factory=list)  # sent by the bot, in order
    left: bool = False


@dataclass
class _Fault:
    status: int
    description: str
    parameters: dict | None


class FakeTelegram:
    """A strict local Telegram Bot API server; see the module docstring."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "aftercare_test_bot",
        spec_path: str | os.PathLike[str] | None = None,
        *,
        bot_first_name: str = "Aftercare Test Bot",
        first_update_id: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        if not re.fullmatch(r"[0-9]+:[A-Za-z0-9_-]+", token):
            raise ValueError(f"not a Telegram-shaped bot token: {token!r}")
        self.token = token
        self.spec = BotApiSpec.load(spec_path)
        self.host = host
        self._listen_port = port  # 0: any free port (tests); the one it got is self.port
        self.port: int | None = None
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

        # What tests inspect.
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.errors: list[tuple[str, dict[str, Any], int, str]] = []
        self.callback_answers: dict[str, dict[str, Any]] = {}

        # Chats, users, messages.
        self._users: dict[int, FakeUser] = {}
        self._chats: dict[int, _Chat] = {}
        self._blocked: set[int] = set()
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._next_callback_id = random.randint(10**17, 9 * 10**17)
        self._known_files: dict[str, str] = {}  # file_id -> file_unique_id
        self._commands: dict[tuple[str, str], list[dict]] = {}

        # Updates and polling.
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = first_update_id or random.randint(10_000, 900_000)
        self._last_update_id: int | None = None
        self._allowed_updates = self._default_allowed_updates()
        self._update_event = asyncio.Event()
        self._poll_generation = 0
        self._webhook: dict[str, Any] = {"url": ""}

        # Faults and limits.
        self._faults: dict[str, deque[_Fault]] = {}
        self._delays: dict[str, deque[float]] = {}
        self._outages: dict[str, tuple[float, int]] = {}  # method -> (until, status)
        self._rate_limits: tuple[int | None, int | None, int] | None = None
        # The rate windows' clock. A test of the limits themselves may stop it (every send in
        # one instant), so that how fast a loaded machine gets the sends here cannot decide
        # which of them fall within the same second.
        self.rate_clock: Callable[[], float] = time.monotonic
        self._recent_sends: deque[float] = deque()
        self._recent_sends_by_chat: dict[Any, deque[float]] = {}
        self._paid_limit: int | None = PAID_BROADCAST_PER_SECOND
        self._recent_paid_sends: deque[float] = deque()
        self._paid_sent = 0

        # Counters.
        self._request_counts: Counter[str] = Counter()
        self._status_counts: Counter[int] = Counter()
        self._rate_limited = 0
        self._injected = 0
        self._updates_pushed = 0
        self._updates_dropped = 0

        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    # ---- lifecycle ---------------------------------------------------------------------

    async def start(self) -> FakeTelegram:
        if self._runner is not None:
            raise RuntimeError("FakeTelegram is already running")
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 10 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._handle_file)
        self._closing.clear()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._listen_port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._closing.set()  # releases long polls and delayed responses
        self._wake_pollers()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._require_port()}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self._require_port()}/file/bot"

    def _require_port(self) -> int:
        if self.port is None:
            raise RuntimeError("FakeTelegram is not started; await tg.start() first")
        return self.port

    # ---- users, chats and incoming updates ---------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> FakeUser:
        """Register a user and their private chat (chat id == user id)."""
        user = FakeUser(self, user_id, first_name, last_name, username, language_code)
        self._users[user_id] = user
        chat_info = {"id": user_id, "type": "private", "first_name": first_name}
        if last_name:
            chat_info["last_name"] = last_name
        if username:
            chat_info["username"] = username
        if user_id in self._chats:
            self._chats[user_id].info = chat_info
        else:
            self._chats[user_id] = _Chat(chat_info)
        return user

    def group(
        self, chat_id: int, title: str = "Group", chat_type: str | None = None
    ) -> dict[str, Any]:
        """Register a group (or supergroup, channel) chat; returns its Chat object."""
        chat_type = chat_type or ("supergroup" if chat_id < -1_000_000_000_000 else "group")
        info = {"id": chat_id, "type": chat_type, "title": title}
        if chat_id in self._chats:
            self._chats[chat_id].info = info
        else:
            self._chats[chat_id] = _Chat(info)
        return info

    def push_message(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str | None = None,
        chat_title: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """A user writes ``text`` (in their private chat unless chat_id is given).
        Bot commands get a bot_command entity like Telegram. Returns the update."""
        message = self._user_message(user_id, chat_id, chat_type, chat_title)
        message["text"] = text
        commands = [
            {"type": "bot_command", "offset": utf16_len(text[: m.start()]),
             "length": utf16_len(m.group())}
            for m in re.finditer(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?", text)
        ]  # fmt: skip
        if commands:
            message["entities"] = commands
        if reply_to_message_id is not None:
            chat = self._chats[message["chat"]["id"]]
            target = chat.messages.get(reply_to_message_id)
            if target is None:
                raise ValueError(f"no message {reply_to_message_id} in chat {chat.info['id']}")
            message["reply_to_message"] = _without_reply(target["message"])
        return self.push_update({"message": message})

    def push_sticker(self, user_id: int, emoji: str = "👍", **chat: Any) -> dict[str, Any]:
        message = self._user_message(user_id, **chat)
        file_id, unique_id = self._new_file_id("CAACAgIAAxkBAAI")
        message["sticker"] = {
            "file_id": file_id, "file_unique_id": unique_id, "type": "regular",
            "width": 512, "height": 512, "is_animated": False, "is_video": False,
            "emoji": emoji, "set_name": "HotCherry", "file_size": 24_000,
        }  # fmt: skip
        return self.push_update({"message": message})

    def push_photo(self, user_id: int, caption: str | None = None, **chat: Any) -> dict:
        message = self._user_message(user_id, **chat)
        message["photo"] = self._photo_sizes()
        if caption:
            message["caption"] = caption
        return self.push_update({"message": message})

    def push_voice(self, user_id: int, duration: int = 3, **chat: Any) -> dict[str, Any]:
        message = self._user_message(user_id, **chat)
        file_id, unique_id = self._new_file_id("AwACAgIAAxkBAAI")
        message["voice"] = {
            "file_id": file_id, "file_unique_id": unique_id, "duration": duration,
            "mime_type": "audio/ogg", "file_size": 4_000 * duration,
        }  # fmt: skip
        return self.push_update({"message": message})

    def push_callback(
        self,
        user_id: int,
        message_id: int,
        data: str,
        *,
        chat_id: int | None = None,
        check_button: bool = False,
        inaccessible: bool = False,
    ) -> str:
        """The user presses an inline button with ``data`` on a bot message (in the
        user's private chat unless chat_id is given). Returns the callback query id.
        Any data is allowed (stale or forged presses); with check_button=True the
        message must currently show a button with that data. inaccessible=True sends the
        message as Telegram does once it is older than 48 hours: an InaccessibleMessage
        (chat, message_id and date 0, no text or buttons)."""
        chat = self._chat_or_fail(user_id if chat_id is None else chat_id)
        record = chat.messages.get(message_id)
        if record is None or not record["from_bot"] or record["deleted"]:
            raise ValueError(
                f"the bot has no message {message_id} in chat {chat.info['id']} "
                "(pass chat_id= for a message in another chat)"
            )
        if check_button:
            datas = [b.get("callback_data") for b in self.buttons(record)]
            if data not in datas:
                raise ValueError(
                    f"message {message_id} has no button with callback_data {data!r}; "
                    f"it has {datas}"
                )
        user = self._users.get(user_id) or self.user(user_id)
        query_id = str(self._next_callback_id)
        self._next_callback_id += 1
        shown = copy.deepcopy(record["message"])
        if inaccessible:
            shown = {"chat": shown["chat"], "message_id": message_id, "date": 0}
        query = {
            "id": query_id,
            "from": user.to_dict(),
            "message": shown,
            "chat_instance": str(abs(hash(("chat_instance", chat.info["id"])))),
            "data": data,
        }
        self._callbacks[query_id] = {"answered": False, "user_id": user_id, "data": data}
        self.push_update({"callback_query": query})
        return query_id

    def press_button(
        self, user_id: int, label: str, *, message: dict | None = None, chat_id: int | None = None
    ) -> str:
        """Press the button labelled ``label`` on ``message`` (a sent() record), or on
        the latest bot message in the chat that has such a button."""
        chat_key = user_id if chat_id is None else chat_id
        if message is None:
            candidates = [m for m in reversed(self.sent(chat_key)) if not m["deleted"]]
            message = next(
                (
                    m
                    for m in candidates
                    if any(label.casefold() in b["text"].casefold() for b in self.buttons(m))
                ),
                candidates[0] if candidates else None,
            )
            if message is None:
                raise LookupError(f"the bot has sent nothing to chat {chat_key}")
        data = self.button_data(message, label)
        return self.push_callback(
            user_id, message["message_id"], data, chat_id=chat_id, check_button=True
        )

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (update_id assigned if missing). It is validated against
        the spec; chats and users in a message are registered so the bot can answer."""
        update = dict(update)
        kinds = [key for key in update if key != "update_id"]
        if len(kinds) != 1:
            raise ValueError(f"an update carries exactly one payload, got {kinds}")
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        self._next_update_id = max(self._next_update_id, update["update_id"]) + 1
        self._last_update_id = update["update_id"]
        try:
            self.spec.validate("Update", update)
        except SpecError as exc:
            raise ValueError(f"invalid update: {exc}") from None
        if kinds[0] == "message":
            self._store_user_message(update["message"])
        self._updates_pushed += 1
        if kinds[0] not in self._allowed_updates:
            self._updates_dropped += 1  # like Telegram: never created for this bot
            return copy.deepcopy(update)
        self._updates.append(update)
        self._wake_pollers()
        return copy.deepcopy(update)

    @property
    def last_update_id(self) -> int | None:
        """The update_id of the most recently pushed update."""
        return self._last_update_id

    @property
    def pending_updates(self) -> int:
        """Updates queued and not yet confirmed by a getUpdates offset."""
        return len(self._updates)

    def _user_message(
        self,
        user_id: int,
        chat_id: int | None = None,
        chat_type: str | None = None,
        chat_title: str | None = None,
    ) -> dict[str, Any]:
        user = self._users.get(user_id) or self.user(user_id)
        if chat_id is None or chat_id == user_id:
            chat = self._chats[user_id]
        elif chat_id in self._chats and chat_type is None and chat_title is None:
            chat = self._chats[chat_id]
        else:
            self.group(chat_id, chat_title or "Group", chat_type)
            chat = self._chats[chat_id]
        return {
            "message_id": self._take_message_id(chat),
            "from": user.to_dict(),
            "chat": dict(chat.info),
            "date": int(time.time()),
        }

    def _store_user_message(self, message: dict[str, Any]) -> None:
        """Remember a message a user wrote (registering its chat and sender), so the
        bot can reply to it, delete it, and so message ids stay unique per chat."""
        user, chat_info = message.get("from"), message["chat"]
        if user and not user.get("is_bot") and user["id"] not in self._users:
            self.user(user["id"], user["first_name"], user.get("last_name"),
                      user.get("username"), user.get("language_code"))  # fmt: skip
        chat = self._chats.setdefault(chat_info["id"], _Chat(dict(chat_info)))
        chat.next_message_id = max(chat.next_message_id, message["message_id"] + 1)
        chat.messages[message["message_id"]] = {
            "message_id": message["message_id"],
            "chat_id": chat_info["id"],
            "from_bot": False,
            "deleted": False,
            "message": message,
        }

    # ---- what the bot did -------------------------------------------------------------

    def sent(
        self, chat_id: int | FakeUser, start: int = 0, stop: int | None = None
    ) -> list[dict[str, Any]]:
        """Messages the bot sent to a chat, in order, in their current state (edits
        applied; deleted ones kept with deleted=True). Each record has: message_id,
        chat_id, kind ("text" | "photo" | "document"), text (raw, as the bot sent it;
        the caption for media), parse_mode, plain_text (after entity parsing),
        entities, reply_markup (dict or None), edits, deleted, message (the Message
        object the bot received), sent_at (time.monotonic() when it arrived), and "photo" /
        "document" info for media (an uploaded file's bytes in its "content").
        `start` and `stop` slice the list as list[start:stop] does; only those are copied."""
        key = chat_id.id if isinstance(chat_id, FakeUser) else chat_id
        chat = self._chats.get(key)
        if chat is None:
            return []
        return [copy.deepcopy(chat.messages[i]) for i in chat.bot_message_ids[start:stop]]

    def sent_count(self, chat_id: int | FakeUser) -> int:
        """How many messages the bot sent to a chat; cheap (no copies), for polling."""
        key = chat_id.id if isinstance(chat_id, FakeUser) else chat_id
        chat = self._chats.get(key)
        return 0 if chat is None else len(chat.bot_message_ids)

    def last(self, chat_id: int | FakeUser) -> dict[str, Any] | None:
        sent = self.sent(chat_id, -1)
        return sent[-1] if sent else None

    def calls(self, method: str) -> list[dict[str, Any]]:
        """Parameters of every valid request of ``method``, in order."""
        name = self._method_or_fail(method)
        return [params for called, params in self.requests if called == name]

    def commands(self, scope: dict | None = None, language_code: str = "") -> list[dict]:
        """The bot's command list for a scope (default scope if None)."""
        return copy.deepcopy(self._commands.get(_scope_key(scope, language_code), []))

    @staticmethod
    def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
        """The inline buttons of a message (a sent() record or a Message), flattened."""
        markup = message.get("reply_markup") or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]

    def button_data(self, message: dict[str, Any], text: str) -> str:
        """callback_data of the button whose label is ``text`` (or uniquely contains it)."""
        buttons = self.buttons(message)
        matches = [b for b in buttons if b["text"] == text] or [
            b for b in buttons if text.casefold() in b["text"].casefold()
        ]
        labels = [b["text"] for b in buttons]
        if len(matches) != 1:
            problem = "no button" if not matches else f"{len(matches)} buttons"
            raise LookupError(
                f"{problem} matching {text!r} on message {message.get('message_id')}; "
                f"labels: {labels}"
            )
        if "callback_data" not in matches[0]:
            raise LookupError(f"button {matches[0]['text']!r} has no callback_data")
        return matches[0]["callback_data"]

    @property
    def stats(self) -> dict[str, Any]:
        return {
            "requests": dict(self._request_counts),  # valid requests per method
            "responses_by_status": dict(self._status_counts),  # every error response
            "rate_limited": self._rate_limited,  # 429s issued by the rate limiter
            "paid_broadcasts": self._paid_sent,  # sends with allow_paid_broadcast let through
            "injected_failures": self._injected,  # fail_next() faults served
            "updates_pushed": self._updates_pushed,
            "updates_dropped": self._updates_dropped,  # filtered by allowed_updates
            "pending_updates": len(self._updates),
        }

    async def wait_for(
        self,
        predicate: Callable[[], Any],
        timeout: float = 5.0,  # noqa: ASYNC109 - the familiar test-helper signature
        *,
        message: str | None = None,
        interval: float = 0.01,
    ) -> Any:
        """Wait until ``predicate()`` is truthy and return its value; raises WaitTimeout
        (an AssertionError and TimeoutError) with recent API activity otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if loop.time() >= deadline:
                what = message or getattr(predicate, "__name__", "condition")
                raise WaitTimeout(
                    f"timed out after {timeout}s waiting for {what}\n{self.describe()}"
                )
            await asyncio.sleep(interval)

    async def wait_for_sent(
        self,
        chat_id: int | FakeUser,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - the familiar test-helper signature
        *,
        after: int | None = None,
    ) -> list[dict[str, Any]]:
        """Wait until the bot has sent at least ``count`` messages to the chat (``count``
        more than ``after`` if given); return all of them (those after ``after``)."""
        key = chat_id.id if isinstance(chat_id, FakeUser) else chat_id
        base = after or 0

        def enough() -> bool:
            chat = self._chats.get(key)
            return chat is not None and len(chat.bot_message_ids) >= base + count

        what = f"{count} message(s) to chat {key}" + (f" after {after}" if after else "")
        await self.wait_for(enough, timeout, message=what)
        return self.sent(key, base)

    def describe(self, last: int = 10) -> str:
        """Recent API activity, for failure messages."""
        lines = [f"pending updates: {len(self._updates)}; last {last} requests:"]
        lines += [f"  {m} {_short(p)}" for m, p in self.requests[-last:]] or ["  (none)"]
        lines.append("errors:")
        lines += [f"  {m} -> {s} {d}" for m, _p, s, d in self.errors[-last:]] or ["  (none)"]
        return "\n".join(lines)

    # ---- faults and limits ------------------------------------------------------------

    def block(self, chat_id: int) -> None:
        """The user blocks the bot: sends to that chat get 403 Forbidden."""
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def fail_next(
        self,
        method: str,
        status: int = 500,
        count: int = 1,
        description: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """The next ``count`` valid calls of ``method`` answer with ``status``."""
        name = self._method_or_fail(method)
        parameters = None
        if status == 429:
            retry_after = 1 if retry_after is None else retry_after
            description = description or f"Too Many Requests: retry after {retry_after}"
            parameters = {"retry_after": retry_after}
        elif retry_after is not None:
            parameters = {"retry_after": retry_after}
        description = description or _status_phrase(status)
        queue = self._faults.setdefault(name, deque())
        queue.extend(_Fault(status, description, parameters) for _ in range(count))

    def delay_next(self, method: str, seconds: float, count: int = 1) -> None:
        """Delay the answer to the next ``count`` calls of ``method``. The call takes
        effect at once; only the response is late (like a timeout after delivery)."""
        name = self._method_or_fail(method)
        self._delays.setdefault(name, deque()).extend([seconds] * count)

    def fail_for(self, method: str, seconds: float, status: int = 500) -> None:
        """Every valid call of ``method`` answers ``status`` for the next ``seconds`` of wall
        time: an outage, as opposed to fail_next's counted faults."""
        name = self._method_or_fail(method)
        self._outages[name] = (time.monotonic() + seconds, status)

    def clear_faults(self) -> None:
        self._faults.clear()
        self._delays.clear()
        self._outages.clear()

    def set_rate_limits(
        self,
        global_per_second: int | None = 30,
        per_chat_per_second: int | None = 1,
        retry_after: int = 1,
        paid_per_second: int | None = PAID_BROADCAST_PER_SECOND,
    ) -> None:
        """Enable 429s for send methods beyond these rates (sliding 1-second window). As on
        Telegram, a message sent with allow_paid_broadcast counts against its own limit, up to
        1,000 a second, instead of the free one; the per-chat limit applies to both."""
        self._rate_limits = (global_per_second, per_chat_per_second, retry_after)
        self._paid_limit = paid_per_second

    def clear_rate_limits(self) -> None:
        self._rate_limits = None

    def _method_or_fail(self, method: str) -> str:
        name = self.spec.method_name(method)
        if name is None:
            raise ValueError(f"{method!r} is not a Bot API method")
        return name

    def _take_fault(self, method: str) -> None:
        outage = self._outages.get(method)
        if outage is not None and time.monotonic() < outage[0]:
            self._injected += 1
            raise ApiError(outage[1], _status_phrase(outage[1]))
        queue = self._faults.get(method)
        if queue:
            fault = queue.popleft()
            self._injected += 1
            raise ApiError(fault.status, fault.description, fault.parameters)

    def _check_rate_limit(self, method: str, params: dict[str, Any]) -> None:
        paid = bool(params.get("allow_paid_broadcast"))
        if paid:
            self._paid_sent += 1
        if self._rate_limits is None or method not in SEND_METHODS:
            return
        global_limit, chat_limit, retry_after = self._rate_limits
        recent = self._recent_paid_sends if paid else self._recent_sends
        if paid:
            global_limit = self._paid_limit
        now = self.rate_clock()
        chat_window = self._recent_sends_by_chat.setdefault(params.get("chat_id"), deque())
        for window in (recent, chat_window):
            while window and window[0] <= now - 1.0:
                window.popleft()
        if (global_limit is not None and len(recent) >= global_limit) or (
            chat_limit is not None and len(chat_window) >= chat_limit
        ):
            self._rate_limited += 1
            if paid:
                self._paid_sent -= 1  # refused, so not charged
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        recent.append(now)
        chat_window.append(now)

    # ---- HTTP ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        raw_method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._error(raw_method, {}, ApiError(401, "Unauthorized"))
        method = self.spec.method_name(raw_method)
        if method is None:
            return self._error(raw_method, {}, ApiError(404, "Not Found"))
        raw: dict[str, Any] = {}
        try:
            raw, files = await _read_params(request)
            params = self.spec.check_params(method, raw, files)
        except ApiError as exc:
            return self._error(method, raw, exc)

        self.requests.append((method, params))
        self._request_counts[method] += 1
        try:
            self._take_fault(method)
            self._check_rate_limit(method, params)
            if method == "getUpdates":
                result = await self._get_updates(params, request)
            else:
                handler = getattr(self, f"_api_{method}", None)
                if handler is None:
                    raise ApiError(501, f"Not Implemented: the fake does not implement {method}")
                result = handler(params)
        except _AbandonedPoll:
            return web.json_response({"ok": True, "result": []})
        except ApiError as exc:
            response = self._error(method, params, exc)
        else:
            response = web.json_response({"ok": True, "result": result})
        await self._delay(method)
        return response

    async def _handle_file(self, request: web.Request) -> web.Response:
        return self._error("file", {}, ApiError(404, "Not Found"))

    def _error(self, method: str, params: dict[str, Any], exc: ApiError) -> web.Response:
        self.errors.append((method, params, exc.status, exc.description))
        self._status_counts[exc.status] += 1
        body: dict[str, Any] = {
            "ok": False,
            "error_code": exc.status,
            "description": exc.description,
        }
        if exc.parameters:
            body["parameters"] = exc.parameters
        return web.json_response(body, status=exc.status)

    async def _delay(self, method: str) -> None:
        queue = self._delays.get(method)
        if queue:
            seconds = queue.popleft()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), seconds)

    # ---- updates ------------------------------------------------------------------------

    def _default_allowed_updates(self) -> set[str]:
        return set(self.spec.update_types()) - OPT_IN_UPDATE_TYPES

    def _set_allowed_updates(self, allowed: list[str]) -> None:
        unknown = sorted(set(allowed) - set(self.spec.update_types()))
        if unknown:
            raise bad_request(f"unknown update type {unknown[0]!r} in allowed_updates")
        self._allowed_updates = set(allowed) or self._default_allowed_updates()

    def _wake_pollers(self) -> None:
        self._update_event.set()
        self._update_event = asyncio.Event()

    async def _get_updates(self, p: dict[str, Any], request: web.Request) -> list[dict]:
        if self._webhook["url"]:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        limit = p.get("limit", 100)
        if not 1 <= limit <= 100:
            raise bad_request("limit must be between 1 and 100")
        if "allowed_updates" in p:
            self._set_allowed_updates(p["allowed_updates"])
        offset = p.get("offset", 0)
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

        # A newer getUpdates call terminates an older one that is still waiting.
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(p.get("timeout", 0), 0), 50)
        while True:
            if self._closing.is_set():
                return []
            if generation != self._poll_generation:
                if await _client_gone(request):
                    raise _AbandonedPoll  # e.g. PTB cancelled it while stopping: nobody to tell
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            if self._updates:
                return copy.deepcopy(self._updates[:limit])
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._update_event.wait(), remaining)

    # ---- Bot API methods (one _api_<name> per implemented method) ----------------------

    def _api_getMe(self, p: dict) -> dict:
        return dict(self.bot_user)

    def _api_logOut(self, p: dict) -> bool:
        return True

    def _api_close(self, p: dict) -> bool:
        return True

    def _api_setWebhook(self, p: dict) -> bool:
        url = p["url"]
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if not 1 <= p.get("max_connections", 40) <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        if "allowed_updates" in p:
            self._set_allowed_updates(p["allowed_updates"])
        if p.get("drop_pending_updates"):
            self._updates.clear()
        self._webhook = {"url": url, **{k: p[k] for k in ("max_connections", "ip_address",
                                                          "secret_token") if k in p}}  # fmt: skip
        self._wake_pollers()
        return True

    def _api_deleteWebhook(self, p: dict) -> bool:
        if p.get("drop_pending_updates"):
            self._updates.clear()
        self._webhook = {"url": ""}
        return True

    def _api_getWebhookInfo(self, p: dict) -> dict:
        info: dict[str, Any] = {
            "url": self._webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook["url"]:
            info["max_connections"] = self._webhook.get("max_connections", 40)
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    def _api_setMyCommands(self, p: dict) -> bool:
        commands = p["commands"]
        if len(commands) > 100:
            raise bad_request("too many commands")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"]) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[_scope_key(p.get("scope"), p.get("language_code", ""))] = commands
        return True

    def _api_getMyCommands(self, p: dict) -> list[dict]:
        return self._commands.get(_scope_key(p.get("scope"), p.get("language_code", "")), [])

    def _api_deleteMyCommands(self, p: dict) -> bool:
        self._commands.pop(_scope_key(p.get("scope"), p.get("language_code", "")), None)
        return True

    def _api_setMyDescription(self, p: dict) -> bool:
        return True

    def _api_setMyShortDescription(self, p: dict) -> bool:
        return True

    def _api_setMyName(self, p: dict) -> bool:
        return True

    def _api_setChatMenuButton(self, p: dict) -> bool:
        return True

    def _api_getChat(self, p: dict) -> dict:
        chat = self._resolve_chat(p["chat_id"])
        return {
            **chat.info,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                "premium_subscription": False, "gifts_from_channels": False,
            },
        }  # fmt: skip

    def _api_leaveChat(self, p: dict) -> bool:
        chat = self._resolve_chat(p["chat_id"])
        if chat.info["type"] == "private":
            raise bad_request("chat member status can't be changed in private chats")
        chat.left = True
        return True

    def _api_sendChatAction(self, p: dict) -> bool:
        self._writable_chat(p)
        if p["action"] not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _api_sendMessage(self, p: dict) -> dict:
        chat = self._writable_chat(p)
        plain, entities = _format(p["text"], p.get("parse_mode"), p.get("entities"))
        markup = _check_reply_markup(p.get("reply_markup"))
        body: dict[str, Any] = {"text": plain}
        if entities:
            body["entities"] = entities
        return self._store_bot_message(chat, p, "text", p["text"], body, markup)

    def _api_sendPhoto(self, p: dict) -> dict:
        return self._send_media(p, "photo")

    def _api_sendDocument(self, p: dict) -> dict:
        return self._send_media(p, "document")

    def _send_media(self, p: dict, kind: str) -> dict:
        chat = self._writable_chat(p)
        body: dict[str, Any] = {}
        caption = p.get("caption")
        if caption:
            plain, entities = _format(
                caption, p.get("parse_mode"), p.get("caption_entities"), caption=True
            )
            if plain:
                body["caption"] = plain
            if entities:
                body["caption_entities"] = entities
        markup = _check_reply_markup(p.get("reply_markup"))
        source = p[kind]
        if isinstance(source, UploadedFile):
            if source.size == 0:
                raise bad_request("file must be non-empty")
            info: dict[str, Any] = {"uploaded": True, **source.info(), "content": source.content}
        elif source.startswith(("http://", "https://")) or source in self._known_files:
            info = {"uploaded": False, "source": source}
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if kind == "photo":
            sizes = self._photo_sizes(source if not isinstance(source, UploadedFile) else None)
            body["photo"] = sizes
            info["file_id"] = sizes[-1]["file_id"]
        else:
            if isinstance(source, str) and source in self._known_files:
                file_id, unique_id = source, self._known_files[source]
            else:
                file_id, unique_id = self._new_file_id("BQACAgIAAxkBAAI")
            document: dict[str, Any] = {"file_id": file_id, "file_unique_id": unique_id}
            if isinstance(source, UploadedFile):
                document |= {"file_name": source.filename, "mime_type": source.content_type,
                             "file_size": source.size}  # fmt: skip
            body["document"] = document
            info["file_id"] = file_id
        record = self._store_bot_message(chat, p, kind, caption, body, markup)
        chat.messages[record["message_id"]][kind] = info
        return record

    def _api_editMessageText(self, p: dict) -> dict:
        chat, record = self._editable_message(p)
        if record["kind"] != "text":
            raise bad_request("there is no text in the message to edit")
        if "text" not in p:
            raise bad_request("message text is empty")
        plain, entities = _format(p["text"], p.get("parse_mode"), p.get("entities"))
        # Like Telegram: omitting reply_markup removes the inline keyboard.
        markup = _check_reply_markup(p.get("reply_markup"))
        old = record["message"]
        if (plain, entities, markup) == (old["text"], old.get("entities", []),
                                          old.get("reply_markup")):  # fmt: skip
            raise bad_request(NOT_MODIFIED)
        message = {k: v for k, v in old.items() if k not in ("text", "entities", "reply_markup")}
        message["text"] = plain
        if entities:
            message["entities"] = entities
        record.update(text=p["text"], parse_mode=p.get("parse_mode"), plain_text=plain,
                      entities=entities)  # fmt: skip
        return self._apply_edit(record, message, markup)

    def _api_editMessageReplyMarkup(self, p: dict) -> dict:
        chat, record = self._editable_message(p)
        markup = _check_reply_markup(p.get("reply_markup"))
        if markup == record["message"].get("reply_markup"):
            raise bad_request(NOT_MODIFIED)
        message = {k: v for k, v in record["message"].items() if k != "reply_markup"}
        return self._apply_edit(record, message, markup)

    def _api_deleteMessage(self, p: dict) -> bool:
        chat = self._resolve_chat(p["chat_id"])
        record = chat.messages.get(p["message_id"])
        if record is None or record["deleted"]:
            raise bad_request("message to delete not found")
        record["deleted"] = True
        return True

    def _api_answerCallbackQuery(self, p: dict) -> bool:
        query = self._callbacks.get(p["callback_query_id"])
        if query is None or query["answered"]:
            raise bad_request(CALLBACK_TOO_OLD)
        text = p.get("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        query["answered"] = True
        self.callback_answers[p["callback_query_id"]] = {
            "text": text,
            "show_alert": p.get("show_alert", False),
            "url": p.get("url"),
            "cache_time": p.get("cache_time"),
        }
        return True

    # ---- helpers for the methods -------------------------------------------------------

    def _chat_or_fail(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ValueError(f"chat {chat_id} is unknown; register it with tg.user()/tg.group()")
        return chat

    def _resolve_chat(self, chat_id: int | str) -> _Chat:
        if isinstance(chat_id, str):  # "@username" of a public group or channel
            for chat in self._chats.values():
                username = chat.info.get("username")
                if chat.info["type"] != "private" and username and chat_id == f"@{username}":
                    return chat
            raise bad_request("chat not found")
        found = self._chats.get(chat_id)
        if found is None:
            raise bad_request("chat not found")
        return found

    def _writable_chat(self, p: dict) -> _Chat:
        chat = self._resolve_chat(p["chat_id"])
        if chat.info["id"] in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.left:
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.info['type']} chat")
        return chat

    def _editable_message(self, p: dict) -> tuple[_Chat, dict]:
        if "inline_message_id" in p:
            raise bad_request("MESSAGE_ID_INVALID")  # inline mode is not simulated
        if "chat_id" not in p or "message_id" not in p:
            raise bad_request("message identifier is not specified")
        chat = self._writable_chat(p)
        record = chat.messages.get(p["message_id"])
        if record is None or record["deleted"]:
            raise bad_request("message to edit not found")
        if not record["from_bot"]:
            raise bad_request("message can't be edited")
        return chat, record

    def _apply_edit(self, record: dict, message: dict, markup: dict | None) -> dict:
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        record["message"] = message
        record["reply_markup"] = markup
        record["edits"] += 1
        return copy.deepcopy(message)

    def _take_message_id(self, chat: _Chat) -> int:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        return message_id

    def _store_bot_message(
        self,
        chat: _Chat,
        p: dict,
        kind: str,
        raw_text: str | None,
        body: dict[str, Any],
        markup: dict | None,
    ) -> dict:
        reply_to = None
        reply = p.get("reply_parameters")
        if reply:
            target = chat.messages.get(reply["message_id"])
            if target is not None and not target["deleted"]:
                reply_to = _without_reply(target["message"])
            elif not reply.get("allow_sending_without_reply"):
                raise bad_request("message to be replied not found")
        message: dict[str, Any] = {
            "message_id": self._take_message_id(chat),
            "from": dict(self.bot_user),
            "chat": dict(chat.info),
            "date": int(time.time()),
        }
        if reply_to:
            message["reply_to_message"] = reply_to
        message |= body
        if markup and "inline_keyboard" in markup:  # Messages only show inline keyboards
            message["reply_markup"] = markup
        chat.messages[message["message_id"]] = {
            "message_id": message["message_id"],
            "chat_id": chat.info["id"],
            "from_bot": True,
            "kind": kind,
            "text": raw_text,
            "parse_mode": p.get("parse_mode"),
            "plain_text": body.get("text", body.get("caption")),
            "entities": body.get("entities", body.get("caption_entities", [])),
            "reply_markup": markup,
            "edits": 0,
            "deleted": False,
            "message": message,
            "sent_at": time.monotonic(),  # for latency measurements (bench)
        }
        chat.bot_message_ids.append(message["message_id"])
        return copy.deepcopy(message)

    def _new_file_id(self, prefix: str) -> tuple[str, str]:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
        file_id = prefix + "".join(random.choices(alphabet, k=56))
        self._known_files[file_id] = "AQAD" + "".join(random.choices(alphabet, k=12))
        return file_id, self._known_files[file_id]

    def _photo_sizes(self, file_id: str | None = None) -> list[dict[str, Any]]:
        sizes = []
        for width, height, size in ((90, 67, 1_200), (320, 240, 14_000), (1280, 960, 96_000)):
            new_id, unique_id = self._new_file_id("AgACAgIAAxkBAAI")
            sizes.append({"file_id": new_id, "file_unique_id": unique_id, "width": width,
                          "height": height, "file_size": size})  # fmt: skip
        if file_id in self._known_files:  # re-sending a known photo by file_id
            sizes[-1] |= {"file_id": file_id, "file_unique_id": self._known_files[file_id]}
        return sizes


class _AbandonedPoll(Exception):
    """A superseded long poll whose client has already disconnected."""


async def _client_gone(request: web.Request, grace: float = 0.1) -> bool:
    """Whether the client closed the connection (waiting briefly for the close to land)."""
    deadline = asyncio.get_running_loop().time() + grace
    while request.transport is not None and not request.transport.is_closing():
        if asyncio.get_running_loop().time() >= deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Parameters from the query string and a form, multipart or JSON body."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if not request.body_exists:
        return params, files
    if request.content_type == "application/json":
        try:
            body = json.loads(await request.text() or "{}")
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("JSON object expected")
        params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                value.file.seek(0, os.SEEK_END)
                size = value.file.tell()
                if size > MAX_UPLOAD_BYTES:
                    raise ApiError(413, "Request Entity Too Large")
                value.file.seek(0)
                files[key] = UploadedFile(
                    key, value.filename, value.content_type, size, value.file.read()
                )
            else:
                params[key] = value
    return params, files


def _format(
    text: str, parse_mode: str | None, entities: list | None, *, caption: bool = False
) -> tuple[str, list[dict]]:
    """Apply parse_mode/entities and Telegram's length rules: (plain text, entities)."""
    if entities is not None:
        plain, parsed = text, entities
    elif parse_mode is None or parse_mode.lower() in ("markdown", "markdownv2"):
        plain, parsed = text, []  # Markdown is accepted as-is (not parsed)
    elif parse_mode.lower() == "html":
        try:
            plain, parsed = parse_html(text)
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    else:
        raise bad_request("unsupported parse_mode")
    plain, parsed = _strip_text(plain, parsed)
    if not plain and not caption:
        raise bad_request("message text is empty")
    if len(plain) > (MAX_CAPTION_LENGTH if caption else MAX_TEXT_LENGTH):
        raise bad_request("message caption is too long" if caption else "message is too long")
    return plain, parsed


_BUTTON_DECORATION = frozenset({"text", "icon_custom_emoji_id", "style"})


def _check_reply_markup(markup: dict | None) -> dict | None:
    """Telegram's checks on inline keyboards beyond the JSON shape."""
    if not markup or "inline_keyboard" not in markup:
        return markup
    for row in markup["inline_keyboard"]:
        for button in row:
            actions = [key for key in button if key not in _BUTTON_DECORATION]
            if not actions:
                raise bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            if len(actions) > 1:
                raise bad_request(
                    f"can't parse inline keyboard button: exactly one of {actions} is allowed"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button and not re.match(r"(https?|tg)://\S", button["url"]):
                raise bad_request("BUTTON_URL_INVALID")
    return markup


def _scope_key(scope: dict | None, language_code: str) -> tuple[str, str]:
    return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code


def _without_reply(message: dict) -> dict:
    return {k: v for k, v in message.items() if k != "reply_to_message"}


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def _short(params: dict[str, Any], width: int = 120) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return text if len(text) <= width else text[: width - 3] + "..."
