"""Carry-forward: a new workbook shows the open items of the latest earlier one, to review.

Which tables carry, what their rows are, how they are reviewed and which column names an item
are all read from the prompt set's ``carry`` annotations (never from prompt ids), so a fork
that renames every prompt keeps its carry-forward. The previous workbook is the latest one of
the same case dated before the new one (by the date in its metadata, not its file name) that
has carried items. Items reviewed with a status are carried again until a closing status is
chosen; goals scored on the attainment scale come from the previous workbook's own tables.
Unreadable earlier workbooks become a visible note, never a crash.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..core.errors import KitError
from ..core.prompts import is_answered
from ..core.workbook import Record, open_record

STATUS = ["Done", "Partly done", "Not done"]
GAS_ANCHORS = {
    "-2": "Much less than expected",
    "-1": "Somewhat less than expected",
    "0": "The expected level",
    "1": "Somewhat more than expected",
    "2": "Much more than expected",
}


def carried_items(rec: Record) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """[(carry annotation + "from", row)] of a record: its own annotated tables' rows, and the
    items it carried itself that were not closed."""
    out: list[tuple[dict[str, Any], dict[str, Any]]] = []
    answers = rec.answers
    for pid, p in rec.prompts.items():
        carry = p.get("carry")
        if isinstance(carry, dict):
            labels = {c["id"]: c.get("label", c["id"]) for c in p.get("columns", [])}
            for row in answers.get(pid) or []:
                if isinstance(row, dict) and is_answered(row.get(carry["text"])):
                    out.append(({**carry, "from": pid, "labels": labels}, dict(row)))
    for pid, p in rec.prompts.items():  # then what it carried and left open, in order
        done = p.get("carried")
        if isinstance(done, dict) and done.get("review") == "status":
            closed = done.get("closed") or (done.get("statuses") or STATUS)[:1]
            item = (p.get("context") or {}).get("item")
            if isinstance(item, dict) and answers.get(pid) not in closed:
                out.append((done, item))
    return out


def previous_record(folder: Path, date: str) -> tuple[Record | None, list[str]]:
    """(the latest earlier record with carried items, notes about skipped files)."""
    notes: list[str] = []
    best: tuple[str, Record] | None = None
    for path in sorted(folder.glob("*.ipynb")) if folder.is_dir() else []:
        try:
            rec = open_record(path)
        except KitError as exc:
            notes.append(f"An earlier workbook could not be read and was skipped: {exc}")
            continue
        when = str(rec.info.get("session_date", ""))
        if when < date and (best is None or when > best[0]) and carried_items(rec):
            best = (when, rec)
    return (best[1] if best else None), notes


def review_prompts(items: Iterable[tuple[dict[str, Any], dict[str, Any]]]) -> list[dict[str, Any]]:
    """One review prompt per carried item: a status choice, or an attainment score."""
    prompts: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for carry, row in items:
        kind = str(carry["as"])
        n = counts[kind] = counts.get(kind, 0) + 1
        text = str(row.get(carry["text"]))
        labels = carry.get("labels") or {}
        shown = [f"{labels.get(c, c)}: {row[c]}" for c in carry.get("context", [])
                 if is_answered(row.get(c))]
        what = kind.replace("_", " ").rstrip("s").capitalize()
        meta = {k: v for k, v in carry.items() if k != "from"} | {"from": carry.get("from")}
        if carry["review"] == "gas":
            levels = carry.get("levels") or []
            anchors = dict(GAS_ANCHORS)
            for level, col in zip(range(-2, 3), levels, strict=False):
                if is_answered(row.get(col)):
                    anchors[str(level)] = f"{GAS_ANCHORS[str(level)]}: {row[col]}"
            prompts.append({
                "id": f"cf_{kind}_{n}_score", "kind": "scale", "min": -2, "max": 2,
                "anchors": anchors, "label": f"{what}: {text}",
                "help": ("Where is it now, from −2 to +2? " + "; ".join(shown)).strip(),
                "role": "joint", "carried": meta, "context": {"item": row},
            })
        else:
            prompts.append({
                "id": f"cf_{kind}_{n}_status", "kind": "choice",
                "options": list(carry.get("statuses") or STATUS),
                "label": f"{what}: {text}" + (f" ({'; '.join(shown)})" if shown else ""),
                "help": "Agreed earlier. How far has it been done?",
                "role": "joint", "carried": meta, "context": {"item": row},
            })
    return prompts


def carry_forward(folder: Path, date: str) -> dict[str, Any] | None:
    """A "Since last time" section plus notes, or None when there is nothing to review."""
    prev, notes = previous_record(folder, date)
    if prev is None:
        return {"sections": [], "notes": notes} if notes else None
    prompts = review_prompts(carried_items(prev))
    if not prompts:
        return {"sections": [], "notes": notes} if notes else None
    date_prev = prev.info.get("session_date", "the last session")
    section = {
        "id": "carry_forward",
        "title": "Since last time",
        "intro": (
            f"Items agreed on {date_prev} or still open from before. They are shown as they "
            "were written then; mark each one now."
        ),
        "prompts": prompts,
    }
    return {"sections": [section], "notes": notes, "from": str(prev.path)}
