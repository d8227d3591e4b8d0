"""Supervision hours against a requirement (templates/requirements/*.yaml), for the caseload.

NOTE: hour counting for placements and licensure belongs to ``supervision_kit.placements.hours``
(another module, not in this branch yet). Until it exists, the caseload counts minutes itself
from the ``duration: minutes`` annotation of session records (several records on one day
count once, at the longest, as ``progress.measures.supervision_frequency`` does) and reads
only the requirement fields it needs: ``supervision_hours`` (a total, e.g. a licence) or the
``frequency`` phases' ``min_minutes`` per ``every_days``/``every_months``. Replace
``minutes_by_day``/``required_hours`` with the placements module when it lands.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..core.data import MAX_TEMPLATE, load_yaml, read_regular
from ..core.errors import InputError
from ..core.prompts import templates_dir
from ..core.store import check_id

WINDOW_DAYS = 28  # the rolling window frequency requirements are checked over
DAYS_PER_MONTH = 30.4375


def load_requirement(name_or_path: str, templates: str | os.PathLike[str] | None = None
                     ) -> dict[str, Any]:
    """A requirement by name (templates/requirements/NAME.yaml) or path."""
    p = Path(name_or_path)
    if p.suffix not in (".yaml", ".yml"):
        name = check_id(name_or_path, "requirement")
        p = templates_dir(templates) / "requirements" / f"{name}.yaml"
    if not p.is_file():
        folder = templates_dir(templates) / "requirements"
        known = sorted(x.stem for x in folder.glob("*.yaml")) if folder.is_dir() else []
        raise InputError(f"unknown requirement {name_or_path!r}; available: {', '.join(known)}")
    data = load_yaml(read_regular(p, MAX_TEMPLATE, "requirement").decode("utf-8"), p)
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise InputError(f"{p}: not a requirement (no name)")
    return data


def minutes_by_day(sessions: Iterable[tuple[str, float | None]]) -> dict[str, float]:
    """ISO date -> minutes; several records on one day count once, at the longest."""
    out: dict[str, float] = {}
    for day, minutes in sessions:
        if day:
            out[day] = max(out.get(day, 0.0), float(minutes or 0.0))
    return out


def _phase(req: dict[str, Any], start: dt.date, today: dt.date) -> dict[str, Any] | None:
    phases = [f for f in req.get("frequency") or [] if isinstance(f, dict)]
    days = (today - start).days
    for f in phases:
        if "until_week" in f and days < 7 * float(f["until_week"]):
            return f
        if "until_month" in f and days < DAYS_PER_MONTH * float(f["until_month"]):
            return f
        if "until_day" in f and days < float(f["until_day"]):
            return f
        if not any(k.startswith("until_") for k in f):
            return f
    return phases[-1] if phases else None


def required_hours(req: dict[str, Any], per_day: dict[str, float], start: dt.date,
                   today: dt.date) -> dict[str, Any]:
    """``{"basis", "hours", "required", "short"}`` for one worker.

    ``supervision_hours`` (a licence total): all hours so far against it. Otherwise the
    frequency phase in force today: hours in the last 28 days against ``min_minutes`` times
    the sessions that phase expects in 28 days.
    """
    total = sum(per_day.values()) / 60
    if isinstance(req.get("supervision_hours"), int | float):
        need = float(req["supervision_hours"])
        return {"basis": "total", "hours": round(total, 2), "required": need,
                "short": total < need}
    phase = _phase(req, start, today)
    if not phase or not isinstance(phase.get("min_minutes"), int | float):
        return {"basis": "", "hours": round(total, 2), "required": None, "short": False}
    every = (float(phase["every_days"]) if "every_days" in phase
             else DAYS_PER_MONTH * float(phase.get("every_months", 1)))
    need = WINDOW_DAYS / every * float(phase["min_minutes"]) / 60
    since = (today - dt.timedelta(days=WINDOW_DAYS)).isoformat()
    recent = sum(m for d, m in per_day.items() if since < d <= today.isoformat()) / 60
    return {"basis": f"last {WINDOW_DAYS} days", "hours": round(recent, 2),
            "required": round(need, 2), "short": recent + 1e-9 < need}
