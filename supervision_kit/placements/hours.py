"""The supervised-hours log: every supervision session of a worker, counted once, with its
length, how it was held, who supervised and their credential, and running totals; checked
against a requirement (data in ``templates/requirements/``).

Read from the records' annotations, never prompt ids:

- a record of kind ``session`` is one supervision session, however many cases it covers;
- its length is the number annotated ``duration: minutes`` (a session without one is listed
  and counts 0 hours);
- how it was held is the choice annotated ``supervision_mode`` (the annotation maps each
  option to individual, group, live or remote); without one a session is ``individual``;
- the supervisor is the record's supervisor, and their credential the answer annotated
  ``credential`` in the latest agreement (supervision or learning agreement) of the pair.

One meeting recorded in several workbooks (one per case, as older templates did) counts once:
session records of the same day, supervisor and kind are one session, as long as the longest.

Against a requirement: hours of each kind are totalled, kinds not in ``kinds_counted`` count
nothing, and each ``cap`` (``cap_hours``, or ``cap_fraction`` of ``supervision_hours``) limits
what its kind contributes; the counted total is compared with ``supervision_hours``. Frequency
phases are checked window by window from the placement's start (learning agreement, prompt
annotated ``period: start``; else the first session), sessions shorter than a phase's
``min_minutes`` not counting; direct observations are counted from records of kind
``observation``.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import math
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from ..core.errors import InputError, KitError
from ..core.store import store_root
from .agreements import credential_on, credentials, placement_period
from .frameworks import SUPERVISION_KINDS, Requirement

SESSION = "session"
OBSERVATION = "observation"
DEFAULT_KIND = "individual"


@dataclass
class Session:
    date: str
    minutes: float | None
    kind: str
    supervisor: str
    credential: str
    credential_since: str
    cases: int
    records: list[str]
    cumulative_hours: float = 0.0
    cumulative_counted: float = 0.0  # toward the requirement, caps applied so far

    @property
    def hours(self) -> float:
        return round((self.minutes or 0) / 60, 2)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"hours": self.hours}


@dataclass
class KindTotal:
    kind: str
    sessions: int
    hours: float
    counted: float  # toward the requirement
    cap: float | None  # hours, or None when uncapped
    note: str = ""


@dataclass
class HoursLog:
    worker: str
    store: str
    sessions: list[Session] = field(default_factory=list)
    kinds: list[KindTotal] = field(default_factory=list)
    total_hours: float = 0.0
    counted_hours: float = 0.0
    requirement: dict[str, Any] | None = None  # name, title, version, illustrative, note
    required_hours: float | None = None
    remaining_hours: float | None = None
    met: bool | None = None
    start: str = ""
    end: str = ""
    until: str = ""
    observations: dict[str, int] = field(default_factory=dict)  # recorded, signed, required
    checks: list[str] = field(default_factory=list)  # what a placement office looks at
    problems: list[str] = field(default_factory=list)  # what falls short

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["sessions"] = [s.to_dict() for s in self.sessions]
        return d


# ---------------------------------------------------------------- reading


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def session_records(df: Any, worker: str) -> list[dict[str, Any]]:
    """One dict per session record of the worker: date, minutes, kind, supervisor, cases, path
    (from the store's DataFrame, by annotations)."""
    rows = df[(df["record"] == SESSION) & (df["worker"] == worker)]
    out = []
    for path, g in rows.groupby("path", sort=False):
        minutes, kind = None, DEFAULT_KIND
        for m, v in zip(g["meaning"], g["value"], strict=True):
            m = m if isinstance(m, dict) else {}
            if m.get("duration") == "minutes" and minutes is None:
                minutes = _num(v)
            mode = m.get("supervision_mode")
            if isinstance(mode, dict) and mode.get(v) in SUPERVISION_KINDS:
                kind = mode[v]
        date = g["date"].iloc[0]
        out.append({"date": date.strftime("%Y-%m-%d") if date == date else "",
                    "minutes": minutes, "kind": kind,
                    "supervisor": str(g["supervisor"].iloc[0] or ""),
                    "cases": _cases(str(path), g["case"]),
                    "path": str(path)})
    return sorted(out, key=lambda r: (r["date"], r["path"]))


def _cases(path: str, seen: Any) -> int:
    """How many cases the session was about: the record's own list (a case discussed but
    not written about still counts), else the cases its answers belong to."""
    from ..core.workbook import open_record

    with contextlib.suppress(KitError):
        cases = open_record(path).info.get("cases")
        if isinstance(cases, list):
            return len(cases)
    return len({c for c in seen if isinstance(c, str) and c})


def _merge(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records of the same day, supervisor and kind are one session (the longest counts)."""
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in records:
        key = (r["date"], r["supervisor"], r["kind"])
        if key not in merged:
            merged[key] = dict(r, records=[r["path"]])
            continue
        m = merged[key]
        m["records"].append(r["path"])
        m["cases"] += r["cases"]
        if r["minutes"] is not None and (m["minutes"] is None or r["minutes"] > m["minutes"]):
            m["minutes"] = r["minutes"]
    return sorted(merged.values(), key=lambda r: (r["date"], r["supervisor"], r["kind"]))


def _count_observations(df: Any, worker: str) -> tuple[int, int]:
    """(observation records, how many of them are signed by both) for the worker."""
    from ..core.workbook import open_record

    paths = df.loc[(df["record"] == OBSERVATION) & (df["worker"] == worker), "path"].unique()
    signed = 0
    for p in paths:
        with contextlib.suppress(KitError):  # an unreadable file is not a signed observation
            signed += bool(open_record(p).locked)
    return len(paths), signed


# ---------------------------------------------------------------- the log


def caps_for(req: Requirement | None) -> dict[str, float]:
    """Cap in hours per kind (``cap_fraction`` is a share of ``supervision_hours``)."""
    if req is None:
        return {}
    total = float(req.get("supervision_hours") or 0)
    out = {}
    for cap in req.get("caps", []):
        out[cap["kind"]] = (float(cap["cap_hours"]) if "cap_hours" in cap
                            else round(float(cap["cap_fraction"]) * total, 2))
    return out


def _counted(by_kind: dict[str, float], counted_kinds: tuple[str, ...],
             caps: dict[str, float]) -> float:
    return sum(min(h, caps.get(k, h)) for k, h in by_kind.items() if k in counted_kinds)


def hours_log(store: str | os.PathLike[str] | None, worker: str,
              requirement: Requirement | None = None, *, until: str | None = None) -> HoursLog:
    """The worker's supervised-hours log, checked against ``requirement`` when given.
    ``until`` (YYYY-MM-DD, default today) ends the frequency check."""
    from ..table.index import load_store

    root = store_root(store)
    if not str(worker or "").strip():
        raise InputError("--worker is required (the name as it appears in the records)")
    df = load_store(root, progress=False)
    log = HoursLog(worker=worker, store=str(root))
    if df.empty or not (df["worker"] == worker).any():
        known = sorted(set(df["worker"].dropna())) if not df.empty else []
        raise InputError(f"no records for worker {worker!r} in {root}"
                         + (f"; workers here: {', '.join(map(str, known[:10]))}" if known else ""))
    creds = credentials(root, worker)
    counted_kinds = tuple(requirement.get("kinds_counted") or SUPERVISION_KINDS) \
        if requirement else SUPERVISION_KINDS
    caps = caps_for(requirement)
    by_kind: dict[str, float] = {}
    total = 0.0
    for r in _merge(session_records(df, worker)):
        cred = credential_on(creds, r["supervisor"], r["date"])
        s = Session(date=r["date"], minutes=r["minutes"], kind=r["kind"],
                    supervisor=r["supervisor"], credential=cred.credential,
                    credential_since=cred.since, cases=r["cases"], records=r["records"])
        total += s.hours
        by_kind[s.kind] = by_kind.get(s.kind, 0.0) + s.hours
        s.cumulative_hours = round(total, 2)
        s.cumulative_counted = round(_counted(by_kind, counted_kinds, caps), 2)
        log.sessions.append(s)
    log.total_hours = round(total, 2)
    for kind in SUPERVISION_KINDS:
        if kind not in by_kind and kind not in caps:
            continue
        hours = round(by_kind.get(kind, 0.0), 2)
        counted = 0.0 if kind not in counted_kinds else round(min(hours, caps.get(kind, hours)), 2)
        note = ""
        if kind not in counted_kinds:
            note = "does not count toward this requirement"
        elif kind in caps and hours > caps[kind]:
            note = f"capped: {hours - caps[kind]:g} h over the {caps[kind]:g} h cap not counted"
        log.kinds.append(KindTotal(kind, sum(1 for s in log.sessions if s.kind == kind), hours,
                                   counted, caps.get(kind), note))
    log.counted_hours = round(sum(k.counted for k in log.kinds), 2)
    log.start, log.end = placement_period(root, worker)
    first = log.sessions[0].date if log.sessions else ""
    log.start = log.start or first
    log.until = until or dt.date.today().isoformat()
    if log.end and log.until > log.end:
        log.until = log.end
    missing = [s.date for s in log.sessions if s.minutes is None]
    if missing:
        log.problems.append(f"{len(missing)} session(s) with no length recorded (counted as 0 "
                            f"h): {', '.join(missing[:6])}")
    no_cred = sorted({s.supervisor for s in log.sessions if not s.credential})
    if no_cred:
        log.problems.append("no credential on record for " + ", ".join(no_cred)
                            + " (record it in the agreement)")
    log.observations = dict(zip(("recorded", "signed"), _count_observations(df, worker),
                                strict=True))
    if requirement is not None:
        _check(log, requirement)
    return log


# ---------------------------------------------------------------- checks


def _add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def _programme_end(req: Requirement, start: dt.date, end: str) -> dt.date | None:
    if _date(end):
        return _date(end)
    if req.get("programme_months"):
        return _add_months(start, int(req.get("programme_months")))
    if req.get("placement_days"):  # placement days are working days: about 5 a week
        return start + dt.timedelta(days=math.ceil(int(req.get("placement_days")) * 7 / 5))
    return None


def _check(log: HoursLog, req: Requirement) -> None:
    log.requirement = {"name": req.name, "title": req.title, "version": req.version,
                       "illustrative": req.illustrative, "kind": req.kind,
                       "note": str(req.get("note") or "")}
    if req.get("supervision_hours") is not None:
        need = float(req.get("supervision_hours"))
        log.required_hours = need
        log.remaining_hours = round(max(0.0, need - log.counted_hours), 2)
        log.met = log.counted_hours >= need
        log.checks.append(f"supervision hours: {log.counted_hours:g} of {need:g} counted"
                          + ("" if log.met else f", {log.remaining_hours:g} to go"))
        if not log.met:
            log.problems.append(f"supervision hours: {log.remaining_hours:g} h short of "
                                f"{need:g} h")
    if req.get("total_practice_hours"):
        over = f" over at least {req.get('min_months')} months" if req.get("min_months") else ""
        log.checks.append(f"practice hours: {req.get('total_practice_hours'):g} needed{over} "
                          "(not tracked by supervision-kit; check the worker's own log)")
    _check_frequency(log, req)
    need_obs = req.get("observations")
    if need_obs is not None:
        log.observations["required"] = int(need_obs)
        rec, signed = log.observations.get("recorded", 0), log.observations.get("signed", 0)
        log.checks.append(f"direct observations: {rec} recorded ({signed} signed) of "
                          f"{need_obs} required")
        if signed < need_obs:
            log.problems.append(f"direct observations: {need_obs - signed} more signed "
                                "observation(s) needed")
    cred = req.get("supervisor_credential")
    if cred:
        log.checks.append(f"supervisor credential required: {cred}")
    years = req.get("supervisor_min_years")
    if years:
        for s in log.sessions:
            since, on = _date(s.credential_since), _date(s.date)
            if since is None or on is None:
                continue
            held = (on - since).days / 365.25
            if held < float(years):
                log.problems.append(f"{s.date}: {s.supervisor} had held the credential "
                                    f"{held:.1f} years (the rule asks for {years:g})")
        unknown = sorted({s.supervisor for s in log.sessions if not _date(s.credential_since)})
        if unknown:
            log.checks.append(f"supervisor of at least {years:g} years' standing: not recorded "
                              f"for {', '.join(unknown)}")


def _check_frequency(log: HoursLog, req: Requirement) -> None:
    phases = req.get("frequency") or []
    start, until = _date(log.start), _date(log.until)
    if not phases or start is None or until is None:
        return
    end = _programme_end(req, start, log.end)
    held = [(d, s.minutes or 0) for s in log.sessions if (d := _date(s.date)) is not None]
    lo = start
    for n, ph in enumerate(phases, 1):
        if "until_week" in ph:
            hi = start + dt.timedelta(weeks=int(ph["until_week"]))
        elif "until_month" in ph:
            hi = _add_months(start, int(ph["until_month"]))
        else:
            hi = end or until + dt.timedelta(days=1)
        hi = min(hi, until + dt.timedelta(days=1))
        if hi <= lo:
            break
        need = int(ph.get("min_minutes") or 0)
        ok = [d for d, m in held if lo <= d < hi and m >= need]
        short = [(d, m) for d, m in held if lo <= d < hi and m < need]
        if "every_days" in ph:
            step = int(ph["every_days"])
            windows, missed = 0, []
            w = lo
            while w + dt.timedelta(days=step) <= hi:
                windows += 1
                if not any(w <= d < w + dt.timedelta(days=step) for d in ok):
                    missed.append(w)
                w += dt.timedelta(days=step)
            what = {7: "week", 14: "fortnight"}.get(step, f"{step}-day period")
        else:
            step = int(ph["every_months"])
            windows, missed = 0, []
            w = lo
            while _add_months(w, step) <= hi:
                windows += 1
                if not any(w <= d < _add_months(w, step) for d in ok):
                    missed.append(w)
                w = _add_months(w, step)
            what = "month" if step == 1 else f"{step}-month period"
        label = f"phase {n} ({lo.isoformat()} to {(hi - dt.timedelta(days=1)).isoformat()})"
        mins = f" of at least {need} minutes" if need else ""
        log.checks.append(f"frequency, {label}: supervision{mins} in {windows - len(missed)} of "
                          f"{windows} complete {what}s")
        if missed:
            log.problems.append(f"frequency, {label}: no supervision{mins} in the {what}(s) "
                                "starting " + ", ".join(d.isoformat() for d in missed[:8])
                                + (" …" if len(missed) > 8 else ""))
        if short:
            log.problems.append(f"frequency, {label}: shorter than {need} minutes: "
                                + ", ".join(f"{d.isoformat()} ({m:g} min)" for d, m in short[:8]))
        lo = hi
