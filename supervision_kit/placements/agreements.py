"""What a worker's agreements say: the framework chosen in the learning agreement, the
placement's start and end, and each supervisor's credential.

Read from the records themselves (never the templates): a learning agreement keeps a snapshot
of its framework in its prompt set (``prompt_set.framework``), and the prompts holding dates
and credentials say so by their annotations (``period``, ``credential``,
``credential_since``). Agreements live in ``<store>/learning_agreements/`` and
``<store>/agreements/`` (the store layout puts worker-level records in ``<kind>s/``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import KitError
from ..core.prompts import is_answered
from ..core.store import store_root
from ..core.workbook import Record, open_record
from .frameworks import Framework, framework_from_snapshot

LEARNING_AGREEMENT = "learning_agreement"
AGREEMENT_KINDS = ("agreement", LEARNING_AGREEMENT)


def _date(rec: Record) -> str:
    return str(rec.info.get("session_date") or "")


def agreements(store: str | os.PathLike[str] | None, worker: str,
               kinds: tuple[str, ...] = AGREEMENT_KINDS) -> list[Record]:
    """The worker's readable agreements of ``kinds``, oldest first (unreadable files are
    skipped: an agreement note must never stop a report)."""
    root = store_root(store)
    out = []
    for kind in kinds:
        folder = root / f"{kind}s"
        for path in sorted(folder.glob("*.ipynb")) if folder.is_dir() else []:
            if path.is_symlink():
                continue
            try:
                rec = open_record(path)
            except KitError:
                continue
            if rec.template.get("kind") == kind and rec.info.get("worker") == worker:
                out.append(rec)
    return sorted(out, key=lambda r: (_date(r), str(r.path)))


def _latest(recs: list[Record], date: str | None) -> Record | None:
    if not recs:
        return None
    before = [r for r in recs if date is None or _date(r) <= date]
    return before[-1] if before else recs[0]


def learning_agreement(store: str | os.PathLike[str] | None, worker: str,
                       date: str | None = None) -> Record | None:
    """The worker's learning agreement in force on ``date`` (the latest one made on or before
    it; else the earliest), or None."""
    return _latest(agreements(store, worker, (LEARNING_AGREEMENT,)), date)


def framework_of(rec: Record) -> Framework | None:
    """The framework a record was made with (its prompt set's snapshot), if any."""
    return framework_from_snapshot(rec.template.get("framework"), str(rec.path))


def worker_framework(store: str | os.PathLike[str] | None, worker: str,
                     date: str | None = None) -> Framework | None:
    """The framework chosen for the worker in their learning agreement (None without one)."""
    rec = learning_agreement(store, worker, date)
    return framework_of(rec) if rec is not None else None


def _annotated(rec: Record, key: str, value: Any = True) -> str:
    for pid, p in rec.prompts.items():
        if p.get(key) == value and is_answered(rec.answers.get(pid)):
            return str(rec.answers[pid]).strip()
    return ""


def placement_period(store: str | os.PathLike[str] | None, worker: str) -> tuple[str, str]:
    """(start, end) dates from the latest learning agreement (prompts annotated ``period``);
    empty strings when not recorded."""
    rec = learning_agreement(store, worker)
    if rec is None:
        return "", ""
    return _annotated(rec, "period", "start"), _annotated(rec, "period", "end")


@dataclass(frozen=True)
class Credential:
    supervisor: str
    credential: str  # "" when no agreement records one
    since: str  # date the credential was first held, or ""
    agreement: str  # path of the agreement it comes from, or ""


def credentials(store: str | os.PathLike[str] | None, worker: str) -> list[tuple[str, Credential]]:
    """[(agreement date, Credential)] from every agreement of the worker that names a
    credential (prompt annotated ``credential``), oldest first."""
    out = []
    for rec in agreements(store, worker):
        cred = _annotated(rec, "credential")
        if cred:
            out.append((_date(rec), Credential(str(rec.info.get("supervisor") or ""), cred,
                                               _annotated(rec, "credential_since"),
                                               str(rec.path))))
    return out


def credential_on(creds: list[tuple[str, Credential]], supervisor: str,
                  date: str) -> Credential:
    """The supervisor's credential as recorded by the latest agreement made on or before
    ``date`` (else their earliest one); an empty credential when none records it."""
    mine = [(d, c) for d, c in creds if c.supervisor == supervisor]
    before = [c for d, c in mine if d <= date]
    if before:
        return before[-1]
    if mine:
        return mine[0][1]
    return Credential(supervisor, "", "", "")


def store_of(path: str | os.PathLike[str], info: dict[str, Any] | None = None) -> Path:
    """The store a workbook belongs to: recorded in its info (progress reviews made outside
    the store), else the folder above its own (``<store>/<case or kind>s/<file>``)."""
    info = info or {}
    return Path(info.get("store") or Path(path).resolve().parent.parent)
