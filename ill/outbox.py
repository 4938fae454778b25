"""Sending what a transaction queued, once it is committed: the mail outbox
(ill.notify) and the ISO 18626 messages (ill.iso18626) alike.

A service queues rows and raises a flag in ``session.info``; after the
transaction's commit (not a savepoint's: a row of a batch is not visible to
the sender's own session until the outer commit) the sender runs, unless the
application's setting leaves sending to the tick, or the session defers it
(``ill_defer_mail``: the tick sends everything at its end and says what it
sent). A rollback of the transaction lowers the flag; a failed sending leaves
the rows queued for the tick."""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import current_app
from sqlalchemy import event

from .extensions import db

log = logging.getLogger(__name__)

DEFER = "ill_defer_mail"
_senders: dict[str, tuple[str, Callable[[], object], str]] = {}


def queued(session, flag: str) -> None:
    """Ask for sending once this session's transaction commits."""
    session.info[flag] = True


def _after_commit(session) -> None:
    if session.in_nested_transaction():
        return
    for flag, (setting, send, what) in _senders.items():
        if session.info.get(DEFER) or not session.info.pop(flag, False):
            continue
        try:
            app = current_app._get_current_object()
        except RuntimeError:
            return
        if not app.config.get(setting, True):
            continue
        try:
            send()
        except Exception:  # noqa: BLE001 - the action is committed; the tick sends it
            log.exception("sending %s after commit failed; it stays queued", what)


def _after_rollback(session, previous) -> None:
    if not previous.nested:  # a savepoint's rollback leaves the outer transaction's queued
        for flag in _senders:
            session.info.pop(flag, None)


def send_after_commit(flag: str, setting: str, send: Callable[[], object], what: str) -> None:
    """Run ``send()`` after a commit of a session that raised ``flag``, when
    the setting (True by default) says so."""
    if not _senders:
        event.listen(db.session, "after_commit", _after_commit)
        event.listen(db.session, "after_soft_rollback", _after_rollback)
    _senders[flag] = (setting, send, what)


def echo_queue(rows: list[dict], fmt: str, line: Callable[[dict], str], nothing: str) -> None:
    """A command line's listing of what waits to be sent: the rows as JSON
    (``fmt`` "json"), or one line each; ``nothing`` when none waits."""
    import json

    import click

    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(line(row))
    if not rows:
        click.echo(nothing)
