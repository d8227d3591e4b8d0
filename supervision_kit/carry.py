"""Carry-forward: a new session shows the previous session's open actions and goals.

The previous session is the latest workbook of the same case dated before the new one (by
the date in its metadata, not its file name) that has goals or actions. Unreadable earlier
workbooks become a visible note, never a crash.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import KitError
from .prompts import is_answered

STATUS = ["Done", "Partly done", "Not done"]
GAS_ANCHORS = {
    "-2": "Much less than expected",
    "-1": "Somewhat less than expected",
    "0": "The expected level",
    "1": "Somewhat more than expected",
    "2": "Much more than expected",
}


def previous_session(case_dir: Path, date: str) -> tuple[dict[str, Any] | None, list[str]]:
    """(answers of the latest earlier session with goals/actions, notes about skipped files)."""
    from .record import read_answers

    notes, best = [], None
    for path in sorted(case_dir.glob("*.ipynb")) if case_dir.is_dir() else []:
        try:
            rec = read_answers(path)
        except KitError as exc:
            notes.append(f"An earlier workbook could not be read and was skipped: {exc}")
            continue
        when = str(rec["workbook"].get("session_date", ""))
        has_plan = any(k in rec["answers"] for k in ("goals", "actions"))
        if when < date and has_plan and (best is None or when > best[0]):
            best = (when, rec)
    return (best[1] if best else None), notes


def open_items(answers: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(actions, goals) written in a session's own tables."""
    actions = [dict(a) for a in answers.get("actions") or [] if is_answered(a.get("action"))]
    goals = [dict(g) for g in answers.get("goals") or [] if is_answered(g.get("goal"))]
    return actions, goals


def carry_forward(case_dir: Path, date: str) -> dict[str, Any] | None:
    """A ``carry_forward`` section (prompts with read-only context) plus notes, or None."""
    prev, notes = previous_session(case_dir, date)
    if prev is None:
        return {"sections": [], "notes": notes} if notes else None
    actions, goals = open_items(prev["answers"])
    actions += _still_open(prev)
    prompts: list[dict[str, Any]] = []
    for n, a in enumerate(actions, 1):
        who = ", ".join(x for x in (a.get("owner"), a.get("due") and f"due {a['due']}") if x)
        prompts.append({
            "id": f"cf_action_{n}_status",
            "kind": "choice",
            "options": STATUS,
            "label": f"Action: {a['action']}" + (f" ({who})" if who else ""),
            "help": "Agreed last time. How far has it been done?",
            "role": "joint",
            "context": {"action": a},
        })
    for n, g in enumerate(goals, 1):
        expected = str(g.get("expected") or "not described").rstrip(". ")
        prompts.append({
            "id": f"cf_goal_{n}_score",
            "kind": "scale",
            "min": -2,
            "max": 2,
            "anchors": GAS_ANCHORS,
            "label": f"Goal: {g['goal']}",
            "help": f"Expected level (0): {expected}. Where is it now, from −2 to +2?",
            "role": "joint",
            "context": {"goal": g},
        })
    if not prompts:
        return {"sections": [], "notes": notes} if notes else None
    date_prev = prev["workbook"].get("session_date", "the last session")
    section = {
        "id": "carry_forward",
        "title": "Since last time",
        "intro": (
            f"Actions and goals agreed on {date_prev}. They are shown as they were written "
            "then; mark each one now."
        ),
        "prompts": prompts,
    }
    return {"sections": [section], "notes": notes, "from": prev["workbook"].get("path")}


def _still_open(prev: dict[str, Any]) -> list[dict[str, Any]]:
    """Actions the previous session itself carried and did not mark done."""
    from .record import load_notebook, prompt_index

    prompts = prompt_index(load_notebook(prev["workbook"]["path"]))
    out = []
    for pid, p in prompts.items():
        action = (p.get("context") or {}).get("action")
        if action and prev["answers"].get(pid) != "Done":
            out.append(action)
    return out
