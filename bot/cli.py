"""The `aftercare` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from pydantic import ValidationError

from bot.logs import configure_logging
from config import redact
from config.settings import Settings, describe_error
from messages.catalog import ContentError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aftercare", description=__doc__)
    parser.add_argument("--version", action="version", version=f"aftercare {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="migrate the database, then run the bot")
    commands.add_parser("demo", help="a scripted conversation against a local Bot API server")
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply all migrations")
    invite = commands.add_parser("invite-counselor", help="print a one-time counselor link")
    invite.add_argument("--name", required=True, help="the counselor's name")
    invite.add_argument("--admin", action="store_true", help="the counselor sees all caseloads")
    meetings = commands.add_parser("meetings", help="the program's meeting list")
    meeting_commands = meetings.add_subparsers(dest="meetings_command", required=True)
    feed = meeting_commands.add_parser(
        "import", help="import or update meetings from a Meeting Guide (TSML) JSON feed"
    )
    feed.add_argument("file", type=Path, help="the feed: a JSON array of meetings")
    feed.add_argument(
        "--timezone", help="IANA zone for rows without one (default: DEFAULT_TIMEZONE)"
    )
    audit = commands.add_parser("audit", help="the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    export = audit_commands.add_parser(
        "export", help="print the audit log as CSV (at, actor, action, subject, details)"
    )
    export.add_argument("--since", required=True, type=_since, metavar="DATE",
                        help="from this UTC day (YYYY-MM-DD) or ISO 8601 time")  # fmt: skip
    export.add_argument("--until", type=_until, metavar="DATE",
                        help="through the end of this UTC day, or up to this time")  # fmt: skip
    screen = commands.add_parser("screen", help="screen messages: a line in, a JSON line out")
    screen.add_argument("--explain", action="store_true", help="print the same in words")
    fake = commands.add_parser(
        "fake-telegram",
        help="the local Bot API server on its own: try the bot offline, typing as its users",
    )
    fake.add_argument("--port", type=int, default=8081, help="port to listen on (default 8081)")
    fake.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    return parser


def _since(text: str):
    from bot.audit_export import parse_bound

    try:
        return parse_bound(text)
    except ValueError as exc:  # argparse prints it and exits with status 2
        raise argparse.ArgumentTypeError(str(exc)) from None


def _until(text: str):
    from bot.audit_export import parse_bound

    try:
        return parse_bound(text, until=True)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("aftercare-bot")
    except PackageNotFoundError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Masks first, from the raw environment: even a configuration error can't echo a secret.
    redactor = redact.from_environment()
    configure_logging("INFO", redactor)
    if args.command == "screen":  # no settings, token or database
        from bot.screen_cli import run

        return run(args.explain)
    if args.command == "fake-telegram":  # no settings either: it is not the bot
        from fake_telegram import console

        return console.main(args.host, args.port)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(redactor(describe_error(exc)), file=sys.stderr)
        return 2
    redactor.add(settings.token(), redact.url_password(settings.database_url))
    if settings.webhook_secret is not None:
        redactor.add(settings.webhook_secret.get_secret_value())
    configure_logging(settings.log_level, redactor, settings.log_format)
    try:
        return _dispatch(args, settings)
    except ContentError as exc:
        print(f"aftercare: content error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(redactor(f"aftercare: {exc}"), file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "run" and settings.token():
        # The screen's model trains in a child process while the bot imports its modules and
        # reaches the database and the Bot API; `aftercare run` waits for it (model_for) before
        # it takes in any update.
        from messages.screen_model import train_in_background

        train_in_background()
    if args.command == "run":
        from bot import runner  # here, not above: the bot's modules and PTB are for `run` alone

        return runner.run(settings)
    if args.command == "demo":
        from bot.demo import run_demo

        return asyncio.run(run_demo())
    # The rest maintain the database and never import PTB (but to ask Telegram who we are).
    from bot import commands
    if args.command == "db":
        before, after = asyncio.run(commands.migrate_and_report(settings.database_url))
        if before == after:
            print(f"database is up to date (revision {after})")
        else:
            print(f"database upgraded from {before or 'empty'} to revision {after}")
        return 0
    if args.command == "invite-counselor":
        link = asyncio.run(commands.invite_counselor(settings, args.name, args.admin))
        print(f"Send this one-time link to {args.name}. It expires in "
              f"{settings.counselor_invite_ttl_days:g} days.")  # fmt: skip
        print(link)
        return 0
    if args.command == "meetings":
        feed = commands.read_feed(args.file, args.timezone or settings.default_timezone)
        report = asyncio.run(commands.import_meetings(settings, feed, args.file.name))
        _print_import(report)
        return 0
    if args.command == "audit":
        if args.until is not None and args.until <= args.since:
            print("aftercare: --until must come after --since", file=sys.stderr)
            return 2
        try:
            asyncio.run(commands.export_audit(settings, args.since, args.until))
        except BrokenPipeError:
            # `... | head` closed the pipe: the reader has what it wanted. The export was
            # recorded in the audit log all the same (commands.export_audit).
            _silence_stdout()
        return 0
    raise AssertionError(args.command)


def _silence_stdout() -> None:
    """After a broken pipe, Python would complain again while flushing stdout at exit."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _print_import(report) -> None:
    print(f"imported {report.imported}, updated {report.updated}, "
          f"skipped {len(report.skipped)}")  # fmt: skip
    for row in report.skipped:
        slug = f" ({row.slug})" if row.slug else ""
        print(f"skipped row {row.row}{slug}: {row.reason}")
    if report.followed:
        print(f"{report.followed} participants' meetings follow the changes "
              "(their reminders move with them)")  # fmt: skip
    if report.not_offered:
        print(f"{report.not_offered} temporarily closed and not online: "
              "kept, but not offered to participants")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
