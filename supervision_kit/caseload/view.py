"""The caseload: one row per supervisee, from the summaries of every record they appear in.

For each worker (keyed by hub account when the records name one, else by name): the last
session and when the next is due against a ``SupervisionStandard``; records not signed by both
(unsigned) and those still missing required answers (incomplete); safeguarding concerns still
open (items carried ``as: safeguarding`` that no later record closed); other agreed items past
their due date; whether the supervision agreement is missing, unsigned or due for review; and
hours against a requirement where one is set. ``attention`` counts what needs doing, so the
default order puts the supervisees who need something first.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from ..core.errors import InputError
from ..generate.carry import WORKER
from ..progress.measures import SupervisionStandard
from .hours import DAYS_PER_MONTH, minutes_by_day, required_hours
from .summary import NOT_SIGNED, covers

if TYPE_CHECKING:
    import pandas as pd

SESSION, AGREEMENT, SAFEGUARDING = "session", "agreement", "safeguarding"
COLUMNS = ["supervisee", "account", "supervisor", "sessions", "last_session", "next_due",
           "days_to_due", "unsigned", "incomplete", "safeguarding_open", "actions_past_due",
           "agreement", "hours", "hours_required", "hours_basis", "attention", "notes",
           "unsigned_records", "open_safeguarding", "past_due_items"]
SHOWN = COLUMNS[:17]  # the lists stay out of text, CSV and HTML tables
DEFAULT_SORT = "attention"


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _add_months(d: dt.date, n: int) -> dt.date:
    import calendar

    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def interval_days(standard: SupervisionStandard, last: dt.date, first: dt.date) -> int:
    """Days from one session to the next under ``standard`` (the newly-qualified schedule
    counts from its ``start``, else from the first session)."""
    per_month = max(standard.min_sessions_per_month, 1e-6)
    if standard.newly_qualified:
        start = standard.start or first
        if last < start + dt.timedelta(weeks=6):
            return 7
        if last < _add_months(start, 6):
            return 14
    return max(1, round(DAYS_PER_MONTH / per_month))


def _agreement(recs: list[dict[str, Any]], today: dt.date) -> tuple[str, bool]:
    agreed = [r for r in recs if r["kind"] == AGREEMENT and (_date(r["date"]) or today) <= today]
    if not agreed:
        return "none on record", True
    latest = max(agreed, key=lambda r: (r["date"], r["path"]))
    if not latest["locked"]:
        return f"{latest['date']}: not signed by both", True
    review = _date(latest.get("review_date"))
    if review and review <= today:
        return f"review due {review.isoformat()}", True
    return "current" + (f" (review {review.isoformat()})" if review else ""), False


def _row(key: str, recs: list[dict[str, Any]], today: dt.date, standard: SupervisionStandard,
         requirement: dict[str, Any] | None) -> dict[str, Any]:
    recs = sorted(recs, key=lambda r: (r["date"], r["path"]))
    past = [r for r in recs if (_date(r["date"]) or today) <= today]
    sessions = [r for r in past if r["kind"] == SESSION]
    days = sorted({d for r in sessions if (d := _date(r["date"]))})
    last, first = (days[-1], days[0]) if days else (None, None)
    due = (last + dt.timedelta(days=interval_days(standard, last, first))
           if last and first else today)
    signable = [r for r in recs if r["kind"] not in NOT_SIGNED]
    unsigned = [r for r in signable if not r["locked"]]
    incomplete = [r for r in unsigned if r["missing"]]
    newest: dict[str, dict[str, Any]] = {}  # owner -> the latest record about it
    for r in past:  # in date order: the last one covering an owner wins
        for owner in r["cases"]:
            newest[owner] = r
        if covers(r, WORKER):
            newest[WORKER] = r
    items: list[dict[str, Any]] = []
    for owner in sorted(newest):
        items += [{**i, "case": owner or None} for i in newest[owner]["items"].get(owner, [])]
    safeguarding = [i for i in items if i["as"] == SAFEGUARDING]
    overdue_items = [i for i in items if i["as"] != SAFEGUARDING and i.get("due")
                     and i["due"] < today.isoformat()]
    agreement, agreement_due = _agreement(recs, today)
    per_day = minutes_by_day((r["date"], r["minutes"]) for r in sessions)
    hours = {"hours": round(sum(per_day.values()) / 60, 2), "required": None, "basis": "",
             "short": False}
    if requirement is not None and first is not None:
        hours = required_hours(requirement, per_day, standard.start or first, today)
    days_to_due = (due - today).days
    notes = []
    if days_to_due < 0:
        notes.append(f"session overdue by {-days_to_due} day(s)")
    if safeguarding:
        notes.append(f"{len(safeguarding)} safeguarding concern(s) open")
    if overdue_items:
        notes.append(f"{len(overdue_items)} agreed item(s) past due")
    if unsigned:
        notes.append(f"{len(unsigned)} record(s) not signed by both"
                     + (f", {len(incomplete)} incomplete" if incomplete else ""))
    if agreement_due:
        notes.append(f"agreement: {agreement}")
    if hours["short"]:
        notes.append(f"hours below requirement ({hours['hours']:g} of {hours['required']:g})")
    latest = recs[-1]
    attention = (2 * (days_to_due < 0) + 2 * bool(safeguarding) + bool(overdue_items)
                 + bool(unsigned) + agreement_due + bool(hours["short"]))
    return {
        "supervisee": latest["worker"] or key,
        "account": latest.get("worker_user") or "",
        "supervisor": ", ".join(sorted({r["supervisor"] for r in recs if r["supervisor"]})),
        "sessions": len(days),
        "last_session": last.isoformat() if last else "",
        "next_due": due.isoformat(),
        "days_to_due": days_to_due,
        "unsigned": len(unsigned),
        "incomplete": len(incomplete),
        "safeguarding_open": len(safeguarding),
        "actions_past_due": len(overdue_items),
        "agreement": agreement,
        "hours": hours["hours"],
        "hours_required": hours["required"],
        "hours_basis": hours["basis"],
        "attention": attention,
        "notes": "; ".join(notes),
        "unsigned_records": [r["path"] for r in unsigned],
        "open_safeguarding": safeguarding,
        "past_due_items": overdue_items,
    }


def worker_key(summary: dict[str, Any]) -> str:
    return str(summary.get("worker_user") or summary.get("worker") or "")


def build(summaries: list[dict[str, Any]], *, supervisor: str | None = None,
          today: dt.date | str | None = None, standard: SupervisionStandard | None = None,
          requirements: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Caseload rows (see the module docstring). ``supervisor`` keeps the records of that
    supervisor (name or hub account); ``requirements`` maps a worker (account or name) or
    ``"*"`` (everyone) to a requirement (hours.load_requirement)."""
    day = _date(str(today)) if today else dt.date.today()
    if day is None:
        raise InputError(f"invalid date {today!r}: use YYYY-MM-DD")
    std = standard or SupervisionStandard()
    reqs = requirements or {}
    by_worker: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in summaries:
        if supervisor and supervisor not in (s.get("supervisor"), s.get("supervisor_user")):
            continue
        if s.get("kind") in ("review", "workshop") or not worker_key(s):
            continue
        by_worker[worker_key(s)].append(s)
    rows = []
    for key, recs in by_worker.items():
        names = {key, *(r["worker"] for r in recs)}
        req = next((reqs[n] for n in sorted(names) if n in reqs), reqs.get("*"))
        rows.append(_row(key, recs, day, std, req))
    return sort_rows(rows, DEFAULT_SORT)


def sort_rows(rows: list[dict[str, Any]], by: str = DEFAULT_SORT) -> list[dict[str, Any]]:
    """``attention`` (most to do first, then soonest due), or any column; ``-COLUMN`` for
    descending."""
    desc = by.startswith("-")
    col = by.lstrip("-")
    if col not in SHOWN:
        raise InputError(f"cannot sort by {col!r}; use one of: {', '.join(SHOWN)}")
    if col == DEFAULT_SORT:
        out = sorted(rows, key=lambda r: (-r["attention"], r["days_to_due"],
                                          r["supervisee"].lower()))
        return out[::-1] if desc else out

    def key(r: dict[str, Any]) -> tuple[int, Any]:
        v = r[col]
        if v is None or (isinstance(v, float) and math.isnan(v)) or v == "":
            return (1, "")
        return (0, v.lower() if isinstance(v, str) else v)

    present = sorted((r for r in rows if key(r)[0] == 0), key=key, reverse=desc)
    return present + [r for r in rows if key(r)[0] == 1]


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(rows, columns=COLUMNS)
