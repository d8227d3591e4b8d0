"""Evidence of competencies: what a worker's records show, competency by competency.

An answer is evidence for a competency of the worker's framework when

- its prompt declares it in the template (annotation ``competencies: ["framework:id", …]``;
  a reference to the framework a fork was copied from counts for the fork), or
- the worker or supervisor tagged it (a ``tag`` journal event, ``core.review``): any answer
  of any record, or one row of a table answer.

Sources are the worker's records of every kind except those that summarise evidence rather
than give it (learning agreements, evaluations, progress reviews) and workshops. Private
prompts (wellbeing, personal impact) are never evidence: they are not quoted anywhere.
``evidence_map`` counts items per competency and month, ``gaps`` lists competencies with no
evidence yet.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ..core.errors import KitError
from ..core.mirror import plain
from ..core.prompts import is_answered
from ..core.store import store_root
from ..core.workbook import Record, open_record
from .frameworks import Framework

if TYPE_CHECKING:
    import pandas as pd

NOT_EVIDENCE = ("learning_agreement", "evaluation", "review", "workshop")
QUOTE_LIMIT = 600  # characters quoted from one answer
KIND_LABEL = {"session": "Supervision session", "worksheet": "Worksheet",
              "observation": "Direct observation", "incident": "Critical incident analysis",
              "agreement": "Supervision agreement"}


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence for one competency."""

    competency: str  # id in the worker's framework
    date: str  # the record's date, YYYY-MM-DD
    kind: str  # the record's kind (session, worksheet, observation …)
    record: str  # the record's title (template title)
    case: str
    path: str
    prompt: str  # prompt id
    label: str  # the prompt's label
    row: int | None  # table row (from 1) when one row is the evidence
    quote: str  # the answer (or row) as plain text, shortened
    how: str  # "template" (the prompt declares it) or "tagged"
    by: str  # who tagged it ("" for template evidence)
    note: str  # the tagger's note, if any

    @property
    def title(self) -> str:
        """The record's title, or what kind of record it is."""
        return self.record or KIND_LABEL.get(self.kind, self.kind)

    @property
    def source(self) -> str:
        """"Direct observation, 2026-03-10 (case P-03)": where the quote comes from."""
        case = f" (case {self.case})" if self.case else ""
        return f"{self.title}, {self.date}{case}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"source": self.source}


def quote_of(prompt: dict[str, Any], value: Any, row: int | None = None,
             limit: int = QUOTE_LIMIT) -> str:
    """An answer (or one table row) as plain text for quoting: table rows as
    "Column: value; …", one row per line; scales with their anchor; shortened to ``limit``."""
    kind = prompt.get("kind")
    if kind == "table" and isinstance(value, list):
        labels = {c["id"]: c.get("label", c["id"]) for c in prompt.get("columns", [])}
        rows = [value[row - 1]] if row and 0 < row <= len(value) else value
        text = "\n".join("; ".join(f"{labels.get(k, k)}: {plain(v)}" for k, v in r.items()
                                   if is_answered(v))
                         for r in rows if isinstance(r, dict))
    elif kind == "scale":
        anchor = (prompt.get("anchors") or {}).get(str(value), "")
        text = f"{value} — {anchor}" if anchor else str(value)
    else:
        text = plain(value)
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _title(rec: Record) -> str:
    return str(rec.info.get("template_title") or rec.template.get("title") or "")


def record_evidence(rec: Record, framework: Framework) -> list[Evidence]:
    """Every piece of evidence one record gives for ``framework``'s competencies."""
    kind = str(rec.template.get("kind") or "worksheet")
    if kind in NOT_EVIDENCE:
        return []
    answers = rec.answers
    date = str(rec.info.get("session_date") or "")
    found: dict[tuple[str, int | None, str], Evidence] = {}

    def add(pid: str, row: int | None, cid: str, how: str, by: str = "", note: str = "") -> None:
        p = rec.prompts.get(pid)
        value = answers.get(pid)
        if p is None or p.get("private") or not is_answered(value):
            return
        if row is not None and not (isinstance(value, list) and 0 < row <= len(value)):
            return
        quote = quote_of(p, value, row)
        if not quote:
            return
        found[(pid, row, cid)] = Evidence(
            competency=cid, date=date, kind=kind, record=_title(rec),
            case=str(p.get("case") or rec.info.get("case_id") or ""), path=str(rec.path),
            prompt=pid, label=str(p.get("label", pid)), row=row, quote=quote, how=how, by=by,
            note=note)

    for pid, p in rec.prompts.items():
        for ref in p.get("competencies") or []:
            cid = framework.local(ref)
            if cid:
                add(pid, None, cid, "template")
    for (pid, row), ev in rec.review.tags.items():
        for ref in ev.get("competencies") or []:
            cid = framework.local(ref)
            if cid:
                add(pid, row, cid, "tagged", str(ev.get("name") or ev.get("role") or ""),
                    str(ev.get("text") or ""))
    return list(found.values())


def worker_paths(store: str | os.PathLike[str] | None, worker: str) -> list[str]:
    """The worker's workbooks with at least one answer (from the store's cached index)."""
    from ..table.index import load_store

    df = load_store(store, progress=False)
    if df.empty:
        return []
    return sorted(df.loc[df["worker"] == worker, "path"].unique())


def collect(store: str | os.PathLike[str] | None, worker: str, framework: Framework, *,
            since: str | None = None, until: str | None = None,
            skip: str | os.PathLike[str] | None = None) -> list[Evidence]:
    """All evidence in the worker's records dated ``since`` .. ``until`` (inclusive), by date,
    then competency order. ``skip``: a workbook to leave out (the one being made)."""
    order = {cid: n for n, cid in enumerate(framework.ids())}
    out: list[Evidence] = []
    skip_path = os.path.realpath(skip) if skip else None
    for path in worker_paths(store_root(store), worker):
        if skip_path and os.path.realpath(path) == skip_path:
            continue
        try:
            rec = open_record(path)
        except KitError:
            continue
        date = str(rec.info.get("session_date") or "")
        if (since and date < since) or (until and date > until):
            continue
        out += record_evidence(rec, framework)
    return sorted(out, key=lambda e: (e.date, order.get(e.competency, 99), e.path, e.prompt,
                                      e.row or 0))


def by_competency(items: list[Evidence], framework: Framework) -> dict[str, list[Evidence]]:
    """Items grouped by competency, every competency present (empty lists for gaps)."""
    out: dict[str, list[Evidence]] = {cid: [] for cid in framework.ids()}
    for e in items:
        out.setdefault(e.competency, []).append(e)
    return out


def gaps(items: list[Evidence], framework: Framework) -> list[str]:
    """"No evidence yet for competency 4: Engage in practice-informed research …" lines."""
    have = {e.competency for e in items}
    return [f"No evidence yet for competency {c.ref or c.id}: {c.title}"
            for c in framework.competencies if c.id not in have]


def evidence_map(items: list[Evidence], framework: Framework) -> pd.DataFrame:
    """Competency × month counts: one row per competency (framework order), one column per
    month from the first evidence to the last (missing months as 0), then ``total``.
    The index is the competency label ("1. Demonstrate Ethical …")."""
    import pandas as pd

    labels = [c.short for c in framework.competencies]
    months: list[str] = []
    if items:
        first, last = min(e.date[:7] for e in items), max(e.date[:7] for e in items)
        y, m = int(first[:4]), int(first[5:7])
        while f"{y:04d}-{m:02d}" <= last:
            months.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    table = pd.DataFrame(0, index=labels, columns=months, dtype=int)
    short = {c.id: c.short for c in framework.competencies}
    for e in items:
        if e.competency in short and e.date[:7] in table.columns:
            table.loc[short[e.competency], e.date[:7]] += 1
    table["total"] = table.sum(axis=1) if months else 0
    table.index.name = "competency"
    return table


def summary(items: list[Evidence], framework: Framework) -> list[dict[str, Any]]:
    """One row per competency: id, ref, title, count, first, last, kinds (record kinds)."""
    rows = []
    for c in framework.competencies:
        mine = [e for e in items if e.competency == c.id]
        rows.append({"competency": c.id, "ref": c.ref, "title": c.title, "count": len(mine),
                     "first": min((e.date for e in mine), default=""),
                     "last": max((e.date for e in mine), default=""),
                     "sources": ", ".join(sorted({e.kind for e in mine}))})
    return rows
