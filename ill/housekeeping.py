"""The daily tick: every package's time-driven work, in one place and one order.
Each step commits on its own so that one failing step does not undo the others,
and each is idempotent for a given day (state already changed is not changed
again; notices carry a dedupe key per request and day or due date). Mail goes
out at the end, in one batch, so the tick can say what it sent."""
from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date

Step = Callable[[object, date], list[str]]

# (name, "module:function"), in the order they run. Loans first (a lender
# passed over today is asked today; an overdue loan is marked before the
# reminders look at loans), then what tells people, mail last.
STEPS: list[tuple[str, str]] = [
    ("lenders past their deadline", "ill.requests_service:tick_unanswered"),
    ("overdue loans", "ill.requests_service:tick_overdue"),
    ("due-soon reminders", "ill.delivery:remind_due_soon"),
    ("expired copies", "ill.delivery:expire_copies"),
    ("agreements", "agreements.alerts:run"),
    ("catalogue imports", "union_catalog.jobs:tick"),
    ("mail", "ill.housekeeping:send_mail"),
]


def _resolve(path: str) -> Step | None:
    """The step's function; None when its package is not part of this build
    (a missing function in a present module is an error, and says so)."""
    module, _, attr = path.partition(":")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            return None
        raise
    return getattr(mod, attr)


def steps() -> list[tuple[str, Step]]:
    """The steps of the tick, in order. Packages add theirs to STEPS."""
    out = []
    for name, path in STEPS:
        fn = _resolve(path)
        if fn is not None:
            out.append((name, fn))
    return out


def send_mail(session, day: date) -> list[str]:
    from .notify import flush_outbox

    return flush_outbox().lines()


def run(session, day: date) -> list[str]:
    lines = [f"tick for {day.isoformat()}"]
    session.info["ill_defer_mail"] = True
    try:
        for name, step in steps():
            try:
                done = step(session, day)
                session.commit()
            except Exception as exc:  # one failing step must not stop the others
                session.rollback()
                lines.append(f"{name}: FAILED: {exc}")
                continue
            if done:
                lines.extend(f"{name}: {line}" for line in done)
            else:
                lines.append(f"{name}: nothing to do")
    finally:
        session.info.pop("ill_defer_mail", None)
    return lines
