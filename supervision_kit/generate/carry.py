"""Carry-forward: a new workbook shows the open items of earlier ones, to review.

Which tables carry, what their rows are, how they are reviewed and which column names an item
are all read from the prompt set's ``carry`` annotations (never from prompt ids), so a fork
that renames every prompt keeps its carry-forward.

Items belong to a case (the case of their section in a multi-case session, else the
workbook's case) or, with ``carry.scope: worker``, to the worker. For each case of a new
session the source is the latest earlier workbook (by the date in its metadata, not its file
name) holding items of that case; for the worker, the latest earlier one of the same worker
holding worker items. Items reviewed with a status are carried again until a closing status
is chosen (a safeguarding concern stays until closed, an action until it is done or no longer
needed); a goal comes back until it is scored at the expected level (0) or above, so a goal is
reviewed across sessions without being typed again. An item written again in the source's own
table is taken from that row (the newer wording and levels), once. Unreadable earlier
workbooks become a visible note.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..core.errors import KitError
from ..core.prompts import is_answered
from ..core.text import escape_md
from ..core.workbook import Record, open_record

STATUS = ["Done", "Partly done", "Not done"]
GAS_ANCHORS = {
    "-2": "Much less than expected",
    "-1": "Somewhat less than expected",
    "0": "The expected level",
    "1": "Somewhat more than expected",
    "2": "Much more than expected",
}


Item = tuple[dict[str, Any], dict[str, Any]]  # (carry annotation + "from", "labels"; row)
WORKER = ""  # the owner key of worker-scoped items


def _owner(rec: Record, prompt: dict[str, Any], carry: dict[str, Any]) -> str:
    if carry.get("scope") == "worker":
        return WORKER
    return str(prompt.get("case") or rec.info.get("case_id") or "")


def carried_items(rec: Record) -> dict[str, list[Item]]:
    """A record's open items by owner (case id, or WORKER): its own annotated tables' rows
    first, then the items it carried itself and did not close."""
    out: dict[str, list[Item]] = {}
    answers = rec.answers
    for pid, p in rec.prompts.items():
        carry = p.get("carry")
        if isinstance(carry, dict):
            labels = {c["id"]: c.get("label", c["id"]) for c in p.get("columns", [])}
            for row in answers.get(pid) or []:
                if isinstance(row, dict) and is_answered(row.get(carry["text"])):
                    out.setdefault(_owner(rec, p, carry), []).append(
                        ({**carry, "from": pid, "labels": labels}, dict(row)))
    listed = {(owner, *_item_key(c, row)) for owner, items in out.items() for c, row in items}
    for pid, p in rec.prompts.items():  # then what it carried and left open, in order
        done = p.get("carried")
        item = (p.get("context") or {}).get("item")
        if not (isinstance(done, dict) and isinstance(item, dict)):
            continue
        owner = _owner(rec, p, done)
        if (owner, *_item_key(done, item)) in listed:
            continue  # written again in this owner's own table: that row is the newer one
        if still_open(done, answers.get(pid)):
            out.setdefault(owner, []).append((done, item))
    return out


def still_open(carried: dict[str, Any], answer: Any) -> bool:
    """Whether a reviewed item comes back next time: an item reviewed by status until a
    closing status is chosen; a goal until it is scored at the expected level (0) or above.
    An item not reviewed at all (no answer, or "not discussed") always comes back."""
    if carried.get("review") == "status":
        closed = carried.get("closed") or (carried.get("statuses") or STATUS)[:1]
        return answer not in closed
    if carried.get("review") == "gas":
        return not isinstance(answer, (int, float)) or isinstance(answer, bool) or answer < 0
    return False


def _item_key(carry: dict[str, Any], row: dict[str, Any]) -> tuple[str, str]:
    text = row.get(str(carry.get("text")))
    return str(carry.get("as")), " ".join(str(text or "").lower().split())


def earlier_records(folders: list[Path], date: str) -> tuple[list[Record], list[str]]:
    """Readable records dated before ``date`` in ``folders`` (newest first), and notes."""
    notes: list[str] = []
    found: list[tuple[str, Record]] = []
    seen: set[Path] = set()
    for folder in folders:
        for path in sorted(folder.glob("*.ipynb")) if folder.is_dir() else []:
            if path in seen or path.is_symlink():
                continue
            seen.add(path)
            try:
                rec = open_record(path)
            except KitError as exc:
                notes.append(f"An earlier workbook could not be read and was skipped: {exc}")
                continue
            when = str(rec.info.get("session_date", ""))
            if when < date:
                found.append((when, rec))
    found.sort(key=lambda x: x[0], reverse=True)
    return [r for _w, r in found], notes


def covers(rec: Record, owner: str, worker: str | None = None) -> bool:
    """Whether a record could carry items of ``owner``: a workbook about that case, or (for
    WORKER) one of that worker's workbooks with worker-level carried tables."""
    if not rec.template.get("carries_forward"):
        return False  # a worksheet about the case does not replace its last session
    if owner == WORKER:
        return rec.info.get("worker") == worker and any(
            (p.get("carry") or p.get("carried") or {}).get("scope") == "worker"
            for p in rec.prompts.values())
    return owner == rec.info.get("case_id") or owner in (rec.info.get("cases") or [])


def open_items(records: list[Record], owner: str, worker: str | None = None
               ) -> tuple[Record | None, list[Item]]:
    """The newest record about ``owner`` (a case id, or WORKER for ``worker``'s own items)
    and its open items: what it closed stays closed, what it left open comes again."""
    for rec in records:
        if covers(rec, owner, worker):
            return rec, carried_items(rec).get(owner, [])
    return None, []


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
                "help": ("Where is it now, from −2 to +2? It comes back next time until it "
                         "is scored 0 (the expected level) or above. " + "; ".join(shown)).strip(),
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


def review_section(items: list[Item], source: Record, title: str = "Since last time"
                   ) -> dict[str, Any] | None:
    prompts = review_prompts(items)
    if not prompts:
        return None
    date_prev = escape_md(source.info.get("session_date") or "the last session")
    return {
        "id": "carry_forward",
        "title": title,
        "intro": (
            f"Items agreed on {date_prev} or still open from before. They are shown as they "
            "were written then; mark each one now."
        ),
        "prompts": prompts,
    }


def carry_forward(folders: list[Path], date: str, *, cases: list[str],
                  worker: str | None = None) -> dict[str, Any] | None:
    """Review sections for a new workbook: ``{"sections": [...worker-level...],
    "cases": {case: [section]}, "notes": [...]}``, or None when there is nothing to review."""
    records, notes = earlier_records(folders, date)
    out: dict[str, Any] = {"sections": [], "cases": {}, "notes": notes}
    for case in cases:
        source, items = open_items(records, case)
        section = review_section(items, source) if source else None
        if section:
            out["cases"][case] = [section]
    if worker is not None:
        source, items = open_items(records, WORKER, worker)
        section = review_section(items, source, "Since last time: your own development") \
            if source else None
        if section:
            section["id"] = "carry_forward_worker"
            section["scope"] = "worker"
            for p in section["prompts"]:
                p["id"] = p["id"].replace("cf_", "cfw_", 1)
            out["sections"].append(section)
    if not (out["sections"] or out["cases"] or notes):
        return None
    return out
