"""One record, summarised for the caseload view: small, plain, JSON-able, annotation-driven.

Everything comes from the core's record (the read rule) and the prompt set's annotations,
never from prompt ids: ``duration: minutes`` gives the session length, ``review_date`` the
agreement's review date, ``carry`` / ``carried`` with ``review: status`` the agreed items that
are still open (the same rule carry-forward uses: an item stays open until a later record
marks it with a closing status). ``missing_required`` and the lock say whether the record is
complete and signed.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..core.prompts import is_answered
from ..core.workbook import Record
from ..generate.carry import WORKER, carried_items
from ..signoff.sign import missing_required

SUMMARY_VERSION = 1
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# record kinds that are never signed (progress reviews made by the kit, training workbooks)
NOT_SIGNED = frozenset({"review", "workshop"})


def _minutes(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        m = float(value)
    except (TypeError, ValueError):
        return None
    return m if math.isfinite(m) and m >= 0 else None


def _due(carry: dict[str, Any], row: dict[str, Any]) -> str | None:
    """The item's due date: the first ISO date among its context columns, else any column."""
    cols = [*carry.get("context", []), *row]
    for c in cols:
        v = row.get(c)
        if isinstance(v, str) and _DATE.fullmatch(v.strip()):
            return v.strip()
    return None


def open_items(rec: Record) -> dict[str, list[dict[str, Any]]]:
    """Owner (case id, or "" for the worker's own items) -> open status-reviewed items:
    ``{"as", "text", "due"}``."""
    out: dict[str, list[dict[str, Any]]] = {}
    for owner, items in carried_items(rec).items():
        for carry, row in items:
            if carry.get("review") != "status":
                continue
            text = str(row.get(carry.get("text", ""), "") or "").strip()
            out.setdefault(owner, []).append(
                {"as": str(carry.get("as", "")), "text": text[:200], "due": _due(carry, row)})
    return out


def summarise(rec: Record) -> dict[str, Any]:
    """The caseload's view of one record."""
    info = rec.info
    answers = rec.answers
    minutes = None
    review: list[str] = []
    worker_scoped = False
    for pid, p in rec.prompts.items():  # the annotations (core.workbook.ANNOTATIONS) read
        if p.get("duration") == "minutes" and minutes is None:
            minutes = _minutes(answers.get(pid))
        if p.get("review_date") and is_answered(answers.get(pid)):
            review.append(str(answers[pid])[:10])
        for key in ("carry", "carried"):
            if isinstance(p.get(key), dict) and p[key].get("scope") == "worker":
                worker_scoped = True
    cases = [str(c) for c in info.get("cases") or []]
    if info.get("case_id") and info["case_id"] not in cases:
        cases.insert(0, str(info["case_id"]))
    kind = str(rec.template.get("kind", "worksheet"))
    return {
        "v": SUMMARY_VERSION,
        "id": info.get("id"),
        "kind": kind,
        "template": info.get("template"),
        "date": str(info.get("session_date") or "")[:10],
        "worker": str(info.get("worker") or ""),
        "supervisor": str(info.get("supervisor") or ""),
        "worker_user": info.get("worker_user"),
        "supervisor_user": info.get("supervisor_user"),
        "cases": cases,
        "covers_worker": worker_scoped,
        "locked": rec.locked,
        "signed": sorted(rec.state.signed),
        "missing": len(missing_required(rec)) if not rec.locked and kind not in NOT_SIGNED
        else 0,
        "minutes": minutes,
        "review_date": min(review) if review else None,
        "items": open_items(rec),
    }


def covers(summary: dict[str, Any], owner: str) -> bool:
    """Whether a record could hold ``owner``'s items (see generate.carry.covers)."""
    if owner == WORKER:
        return bool(summary.get("covers_worker"))
    return owner in summary.get("cases", [])
