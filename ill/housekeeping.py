"""The daily tick: every package's time-driven work, in one place and one order.
Each step commits on its own so that one failing step does not undo the others,
and each is idempotent for a given day."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

Step = Callable[[object, date], list[str]]


def steps() -> list[tuple[str, Step]]:
    """The steps of the tick, in order. Packages add theirs here."""
    from union_catalog import jobs as catalog_jobs

    return [("catalogue imports", catalog_jobs.tick)]


def run(session, day: date) -> list[str]:
    lines = [f"tick for {day.isoformat()}"]
    for name, step in steps():
        try:
            done = step(session, day)
            session.commit()
        except Exception as exc:  # one failing step must not stop the others
            session.rollback()
            lines.append(f"{name}: FAILED: {exc}")
            continue
        lines.extend(f"{name}: {line}" for line in done) if done else lines.append(f"{name}: nothing to do")
    return lines
