"""What a service answers with (the edge sends it once the transaction has committed:
bot/reply.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from messages.render import Rendered


@dataclass
class Reply:
    """What to send after a transaction commits (sending inside it would hold locks)."""

    messages: list[Rendered | str] = field(default_factory=list)
    # Crisis, lapse and craving responses: sent before anything else.
    urgent: list[Rendered] = field(default_factory=list)
    toast: str | None = None  # callback answer text
    edit_pressed: str | None = None  # replace the pressed question with this line
    edit_message_id: int | None = None  # or replace this earlier message
    ask_checkin_id: int | None = None  # the last message is this check-in's next question
    clear_pressed: bool = False  # a one-shot button: take the pressed message's buttons away


def as_typed(reply: Reply) -> Reply:
    """A reply made for a button press, for the same answer typed: what the press would have
    shown on the pressed message (or as a toast) becomes a message of its own."""
    messages: list[Rendered | str] = list(reply.messages)
    if not messages:
        messages.extend([line for line in (reply.edit_pressed, reply.toast) if line][:1])
    return Reply(messages, urgent=reply.urgent, ask_checkin_id=reply.ask_checkin_id)
