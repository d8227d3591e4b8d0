"""``history``: every saved change, signature and addendum, in order."""

from __future__ import annotations

import json
import os
from typing import Any

from ..core.workbook import open_record


def history(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every event in order: seq, t, type, role, prompt id, a short summary (all strings or
    numbers whatever the journal holds: a hostile journal cannot crash the listing)."""
    rows = []
    for ev in open_record(path).events:
        kind = str(ev.get("type", "answer"))
        if kind == "sign":
            summary = (f"signed by {ev.get('name')} "
                       f"(answers {str(ev.get('answers_sha256'))[:12]})")
        elif kind in ("addendum", "submit", "return", "comment"):  # review: core/review.py
            summary = short(ev.get("text") or "")
        elif kind == "tag":
            raw = ev.get("competencies")
            comps: list[Any] = raw if isinstance(raw, list) else []
            summary = "evidence for " + short(", ".join(map(str, comps)) or "nothing (removed)")
        else:
            summary = short(ev.get("v"))
        role = ev.get("role") or ev.get("by")
        rows.append({"seq": ev.get("seq") if isinstance(ev.get("seq"), int) else None,
                     "t": str(ev.get("t", "")), "type": kind,
                     "role": None if role is None else str(role),
                     "id": None if ev.get("id") is None else str(ev.get("id")),
                     "summary": summary})
    return rows


def short(value: Any, width: int = 60) -> str:
    """One-line preview of a value."""
    if value is None:
        text = "(cleared)"
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    text = " ⏎ ".join(text.splitlines()) if "\n" in text else text
    return text if len(text) <= width else text[: width - 1] + "…"
