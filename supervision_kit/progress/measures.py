"""Progress measures across sessions: pure functions, plus DataFrame builders for the charts.

The measures are public formulas (see docs/progress.md):

- Goal Attainment Scaling: ``T = 50 + 10·Σ(wᵢxᵢ) / √((1−ρ)·Σwᵢ² + ρ·(Σwᵢ)²)``
- Reliable Change Index: ``RCI = (post − pre) / √(2·SE²)``, ``SE = SD·√(1 − r)``
- Supervision frequency: sessions and hours per calendar month against a standard.

The builders take the long table from ``supervision_kit.table.load_store`` (one row per
workbook × answered prompt) and return tidy DataFrames; pandas is imported inside them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

GAS_FORMULA = "T = 50 + 10·Σ(wᵢxᵢ) / √((1−ρ)·Σwᵢ² + ρ·(Σwᵢ)²)"
RCI_FORMULA = "RCI = (post − pre) / √(2·SE²),  SE = SD·√(1 − r);  |RCI| > 1.96 is reliable change"
RCI_CRITICAL = 1.96

SESSION = "session"  # the record kind (prompt-set annotation) of supervision sessions


# ---------------------------------------------------------------- measures


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def gas_t_score(
    scores: Sequence[float], weights: Sequence[float] | None = None, rho: float = 0.3
) -> float:
    """Goal Attainment Scaling T-score (Kiresuk & Sherman).

    ``T = 50 + 10·Σ(wᵢxᵢ) / √((1−ρ)·Σwᵢ² + ρ·(Σwᵢ)²)`` with each score xᵢ in −2…+2,
    weights wᵢ > 0 (default 1) and ρ the assumed correlation between goals (0.3 by convention).
    T = 50 means the goals were met as expected; every goal at +1 with ρ = 0.3 and
    two goals gives about 62.4.
    """
    xs = [_number(x, "a GAS score") for x in scores]
    if not xs:
        raise InputError("gas_t_score needs at least one goal score")
    for x in xs:
        if x < -2 or x > 2:
            raise InputError(f"GAS scores run from -2 to +2, got {x:g}")
    if weights is None:
        ws = [1.0] * len(xs)
    else:
        ws = [_number(w, "a goal weight") for w in weights]
        if len(ws) != len(xs):
            raise InputError(f"{len(xs)} scores but {len(ws)} weights: give one weight per goal")
        if any(w <= 0 for w in ws):
            raise InputError("goal weights must be greater than 0")
    rho = _number(rho, "rho")
    if not 0 <= rho < 1:
        raise InputError(f"rho must be in [0, 1), got {rho:g}")
    num = sum(w * x for w, x in zip(ws, xs, strict=True))
    den = math.sqrt((1 - rho) * sum(w * w for w in ws) + rho * sum(ws) ** 2)
    return 50.0 + 10.0 * num / den


def reliable_change(pre: float, post: float, sd: float, reliability: float) -> tuple[float, bool]:
    """Jacobson & Truax Reliable Change Index: ``(rci, |rci| > 1.96)``.

    ``SE = SD·√(1 − r)`` (standard error of measurement, r = test–retest reliability) and
    ``RCI = (post − pre) / √(2·SE²)``. The sign follows the measure: positive means the
    score went up.
    """
    pre, post = _number(pre, "pre"), _number(post, "post")
    sd, r = _number(sd, "sd"), _number(reliability, "reliability")
    if sd <= 0:
        raise InputError(f"sd must be greater than 0, got {sd:g}")
    if not 0 <= r < 1:
        raise InputError(f"reliability must be in [0, 1), got {r:g}")
    rci = (post - pre) / reliable_change_threshold(sd, r, z=1.0)
    return rci, abs(rci) > RCI_CRITICAL


def reliable_change_threshold(sd: float, reliability: float, z: float = RCI_CRITICAL) -> float:
    """Smallest change that counts as reliable: ``z·√2·SE`` with ``SE = SD·√(1 − r)``."""
    se = sd * math.sqrt(1 - reliability)
    return z * math.sqrt(2 * se * se)


# ---------------------------------------------------------------- supervision frequency


@dataclass(frozen=True)
class SupervisionStandard:
    """How much supervision a worker should get.

    Default: at least one session and 1.5 hours a month. ``newly_qualified`` applies the
    first-year (ASYE) schedule counted from ``start``: weekly for the first 6 weeks,
    fortnightly until 6 months, then at least monthly.
    """

    min_hours_per_month: float = 1.5
    min_sessions_per_month: float = 1.0
    newly_qualified: bool = False
    start: dt.date | None = None

    @property
    def label(self) -> str:
        if self.newly_qualified:
            return ("newly qualified: weekly for 6 weeks, fortnightly to 6 months, then "
                    f"monthly; at least {self.min_hours_per_month:g} h a month")
        return (f"at least {self.min_sessions_per_month:g} session(s) and "
                f"{self.min_hours_per_month:g} h a month")

    def sessions_required(self, year: int, month: int) -> float:
        """Sessions expected in a calendar month (fractional for part-weekly schedules)."""
        days = calendar.monthrange(year, month)[1]
        if not self.newly_qualified:
            return self.min_sessions_per_month
        if self.start is None:
            raise InputError("the newly-qualified schedule needs a start date")
        six_months = _add_months(self.start, 6)
        total = 0.0
        for d in range(1, days + 1):
            day = dt.date(year, month, d)
            if day < self.start:
                continue
            if day < self.start + dt.timedelta(weeks=6):
                total += 1 / 7
            elif day < six_months:
                total += 1 / 14
            else:
                total += self.min_sessions_per_month / days
        return round(total, 2)


NEWLY_QUALIFIED = "newly_qualified"


def _add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "date") and callable(value.date):  # pandas Timestamp
        return value.date()
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InputError(f"not a date: {value!r}") from None


def supervision_frequency(
    sessions: Sequence[tuple[Any, float | None]],
    standard: SupervisionStandard | None = None,
    *,
    until: Any = None,
) -> pd.DataFrame:
    """Sessions and hours per calendar month against a standard.

    ``sessions`` is a list of ``(date, minutes)``; several entries on one day count as one
    session lasting the longest of them (one meeting can cover several cases). Months with
    no supervision between the first session and ``until`` (default: the last session) are
    included as zeros. Columns: month, sessions, hours, sessions_required (fractional for
    part-weekly schedules), hours_required, meets (sessions ≥ required rounded to the
    nearest whole session, and hours ≥ required).
    """
    import pandas as pd

    std = standard or SupervisionStandard()
    per_day: dict[dt.date, float] = {}
    for when, minutes in sessions:
        d = _as_date(when)
        m = 0.0 if minutes is None or isinstance(minutes, str) else float(minutes)
        per_day[d] = max(per_day.get(d, 0.0), m if math.isfinite(m) else 0.0)
    cols = ["month", "sessions", "hours", "sessions_required", "hours_required", "meets"]
    if not per_day:
        return pd.DataFrame(columns=cols)
    first = min(per_day)
    if std.newly_qualified and std.start:
        first = min(first, std.start)
    last = _as_date(until) if until is not None else max(per_day)
    rows = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        days = [d for d in per_day if (d.year, d.month) == (y, m)]
        hours = sum(per_day[d] for d in days) / 60
        need_s = std.sessions_required(y, m)
        rows.append({
            "month": f"{y:04d}-{m:02d}", "sessions": len(days), "hours": round(hours, 2),
            "sessions_required": need_s, "hours_required": std.min_hours_per_month,
            "meets": len(days) >= math.floor(need_s + 0.5) and hours >= std.min_hours_per_month,
        })
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return pd.DataFrame(rows, columns=cols)


# ---------------------------------------------------------------- DataFrame builders
#
# Every builder reads the ``meaning`` column (the prompt set's annotations, see
# docs/architecture.md), never prompt ids or template names: a fork that renames its prompts
# keeps its charts.


def case_sessions(df: pd.DataFrame, case: str | None = None) -> pd.DataFrame:
    """Rows of one case's session records (all cases when ``case`` is None), by date."""
    sel = df["record"] == SESSION
    if case is not None:
        sel &= df["case"] == case
    return df[sel].sort_values(["date", "path"], kind="stable")


Book = tuple[Any, str, list[tuple[dict[str, Any], Any, dict[str, Any]]]]


def _per_workbook(rows: pd.DataFrame) -> list[Book]:
    """[(date, path, [(meaning, value, context)])] in date order."""
    out = []
    for (date, path), g in rows.groupby(["date", "path"], sort=True):
        items = [(m if isinstance(m, dict) else {}, v, c if isinstance(c, dict) else {})
                 for m, v, c in zip(g["meaning"], g["value"], g["context"], strict=True)]
        out.append((date, path, items))
    return out


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    try:
        f = float(str(value).strip())
    except ValueError:
        return None
    return f if math.isfinite(f) else None


def _rows(value: Any) -> list[dict[str, Any]]:
    return [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []


def goal_scores(df: pd.DataFrame, case: str | None = None) -> pd.DataFrame:
    """Every goal score per session: date, path, goal, score, weight, source.

    Scores come from review prompts of carried goals (annotation ``carried`` with review
    ``gas``) and from the score column of goal tables (``carry`` with review ``gas`` and a
    ``score`` column). A goal scored both ways in one session counts once, the review winning.
    Missing or non-positive weights count as 1.
    """
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for date, path, items in _per_workbook(case_sessions(df, case)):
        seen: dict[str, dict[str, Any]] = {}
        for m, value, ctx in items:
            c = m.get("carried")
            if not (isinstance(c, dict) and c.get("review") == "gas"):
                continue
            score, item = _num(value), ctx.get("item") or {}
            name = str(item.get(c.get("text", "")) or "").strip()
            if score is not None and -2 <= score <= 2 and name:
                seen[_key(name)] = _goal_row(date, path, name, score, item.get(c.get("weight")),
                                             "carried forward")
        for m, value, _ctx in items:
            c = m.get("carry")
            if not (isinstance(c, dict) and c.get("review") == "gas" and c.get("score")):
                continue
            for g in _rows(value):
                score, name = _num(g.get(c["score"])), str(g.get(c["text"]) or "").strip()
                if score is None or not name or not -2 <= score <= 2 or _key(name) in seen:
                    continue
                seen[_key(name)] = _goal_row(date, path, name, score, g.get(c.get("weight", "")),
                                             "goals table")
        rows.extend(seen.values())
    cols = ["date", "path", "goal", "score", "weight", "source"]
    return pd.DataFrame(rows, columns=cols)


def _key(name: str) -> str:
    return " ".join(name.lower().split())


def _goal_row(date: Any, path: str, name: str, score: float, weight: Any,
              source: str) -> dict[str, Any]:
    w = _num(weight)
    return {"date": date, "path": path, "goal": name, "score": score,
            "weight": w if w and w > 0 else 1.0, "source": source}


def gas_by_session(df: pd.DataFrame, case: str | None = None, rho: float = 0.3) -> pd.DataFrame:
    """GAS T-score per session that scored at least one goal: date, path, goals, t_score."""
    import pandas as pd

    goals = goal_scores(df, case)
    rows = [
        {"date": date, "path": path, "goals": len(g),
         "t_score": gas_t_score(list(g["score"]), list(g["weight"]), rho)}
        for (date, path), g in goals.groupby(["date", "path"], sort=True)
    ]
    return pd.DataFrame(rows, columns=["date", "path", "goals", "t_score"])


def ratings(df: pd.DataFrame, case: str | None = None) -> pd.DataFrame:
    """Practice ratings over time: date, group, item, rater, rating (prompts annotated
    ``rates: {group, item, rater}``; rater is "self" or "supervisor")."""
    import pandas as pd

    out = []
    for date, _path, items in _per_workbook(case_sessions(df, case)):
        for m, value, _ctx in items:
            r = m.get("rates")
            v = _num(value)
            if isinstance(r, dict) and v is not None:
                out.append({"date": date, "group": str(r.get("group")), "item": str(r.get("item")),
                            "rater": str(r.get("rater")), "rating": v})
    return pd.DataFrame(out, columns=["date", "group", "item", "rater", "rating"])


def outcomes(df: pd.DataFrame, case: str | None = None) -> pd.DataFrame:
    """Outcome scores per session: date, measure, score.

    The prompt annotated ``outcome: score`` under the name in the one annotated
    ``outcome: name`` (a measure the user is licensed to use), and the kit's own rating
    (``outcome: session_rating``, 0–10) as "Session rating".
    """
    import pandas as pd

    out = []
    for date, _path, items in _per_workbook(case_sessions(df, case)):
        kinds = {m.get("outcome"): v for m, v, _c in items if m.get("outcome")}
        score = _num(kinds.get("score"))
        if score is not None:
            name = str(kinds.get("name") or "").strip() or "Outcome score"
            out.append({"date": date, "measure": name, "score": score})
        rating = _num(kinds.get("session_rating"))
        if rating is not None:
            out.append({"date": date, "measure": "Session rating", "score": rating})
    return pd.DataFrame(out, columns=["date", "measure", "score"])


def worker_sessions(df: pd.DataFrame, worker: str | None = None) -> list[tuple[Any, Any]]:
    """``[(date, minutes or None)]`` for every session record of a worker (the prompt
    annotated ``duration: minutes``)."""
    sel = df["record"] == SESSION
    if worker is not None:
        sel &= df["worker"] == worker
    out = []
    for date, _path, items in _per_workbook(df[sel]):
        mins = [v for m, v, _c in items if m.get("duration") == "minutes"]
        out.append((date, _num(mins[0]) if mins else None))
    return out


def action_status(df: pd.DataFrame, case: str | None = None) -> pd.DataFrame:
    """Every agreed item reviewed by status (actions, and any other status-carried log) and
    its latest status: agreed, kind, action, owner, due, status, reviewed.

    Items come from tables annotated ``carry`` with review ``status``; status from the review
    prompts of later sessions, matched by the item's text; never reviewed means "Open".
    """
    import pandas as pd

    acts: dict[tuple[str, str], dict[str, Any]] = {}
    for date, _path, items in _per_workbook(case_sessions(df, case)):
        for m, value, ctx in items:
            c = m.get("carried")
            if isinstance(c, dict) and c.get("review") == "status":
                item = ctx.get("item") or {}
                key = (str(c.get("as")), _key(str(item.get(c.get("text", "")) or "")))
                if key in acts:
                    acts[key].update(status=str(value), reviewed=date)
        for m, value, _ctx in items:
            c = m.get("carry")
            if not (isinstance(c, dict) and c.get("review") == "status"):
                continue
            extra = list(c.get("context", []))
            for a in _rows(value):
                text = str(a.get(c["text"]) or "").strip()
                if text:
                    acts.setdefault((str(c["as"]), _key(text)), {
                        "agreed": date, "kind": str(c["as"]), "action": text,
                        "owner": a.get(extra[0]) if extra else None,
                        "due": a.get(extra[1]) if len(extra) > 1 else None,
                        "status": "Open", "reviewed": None})
    cols = ["agreed", "kind", "action", "owner", "due", "status", "reviewed"]
    return pd.DataFrame(list(acts.values()), columns=cols)


def goal_summary(df: pd.DataFrame, case: str | None = None) -> pd.DataFrame:
    """Every goal set for the case with its latest score: set, goal, expected, target_date,
    weight, latest_score, scored (tables annotated ``carry`` with review ``gas``)."""
    import pandas as pd

    goals: dict[str, dict[str, Any]] = {}
    for date, _path, items in _per_workbook(case_sessions(df, case)):
        for m, value, _ctx in items:
            c = m.get("carry")
            if not (isinstance(c, dict) and c.get("review") == "gas"):
                continue
            extra = list(c.get("context", []))
            for g in _rows(value):
                text = str(g.get(c["text"]) or "").strip()
                if text:
                    w = _num(g.get(c.get("weight", "")))
                    goals.setdefault(_key(text), {
                        "set": date, "goal": text,
                        "expected": g.get(extra[0]) if extra else None,
                        "target_date": g.get(extra[1]) if len(extra) > 1 else None,
                        "weight": w if w and w > 0 else 1.0,
                        "latest_score": None, "scored": None})
    for r in goal_scores(df, case).itertuples():
        if _key(r.goal) in goals:
            goals[_key(r.goal)].update(latest_score=r.score, scored=r.date)
    cols = ["set", "goal", "expected", "target_date", "weight", "latest_score", "scored"]
    return pd.DataFrame(list(goals.values()), columns=cols)
