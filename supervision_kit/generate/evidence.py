"""Generation step for placement records: the worker's framework, sections repeated per
competency, level ratings, and the evidence pulled from the worker's earlier records.

``new_workbook`` calls ``placement_step`` on every prompt set; it changes only those that use
a framework (a section with ``for_each: competency``, or ``pulls_evidence: true``):

1. **The framework**: ``--param framework=NAME`` (from the templates folder, so a renamed fork
   works), else the one chosen in the worker's learning agreement (the snapshot it keeps),
   else the template's default ``framework`` parameter.
2. **Per competency**: each ``for_each: competency`` section is repeated for every competency,
   in the framework's order. Ids get the suffix ``__<competency id>``, each prompt records the
   competency it is about (``competency: "framework:id"``), and the section opens with the
   competency's description and indicators.
3. **Level ratings**: a scale annotated ``level_rating`` becomes 1..N with the framework's N
   levels as its anchors, and is charted as ``rates`` (group: the framework, item: the
   competency, rater: self or supervisor).
4. **Evidence**: with ``pulls_evidence``, each competency's section quotes the evidence for it
   from the worker's records up to the workbook's date (``placements.evidence``): date,
   source and prompt, then the answer, every character escaped.

The prompt set keeps a snapshot of the framework (``prompt_set.framework``), so the workbook
never needs the templates folder again. Pure apart from reading the store.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from typing import Any

from ..core.errors import InputError
from ..core.mirror import quote
from ..core.prompts import PromptSet
from ..core.text import escape_md
from ..placements.agreements import worker_framework
from ..placements.evidence import Evidence, by_competency, collect
from ..placements.frameworks import Competency, Framework, framework_names, load_framework

FOR_EACH = "competency"
SHOWN = 12  # evidence items quoted per competency; the rest are counted


def uses_framework(prompt_set: PromptSet) -> bool:
    return prompt_set.pulls_evidence or any(s.get("for_each") == FOR_EACH
                                            for s in prompt_set.sections)


def resolve_framework(prompt_set: PromptSet, *, store: str | os.PathLike[str] | None,
                      worker: str, date: str, params: dict[str, Any],
                      templates: str | None = None) -> Framework:
    """The framework a new workbook is made with (see the module docstring, step 1)."""
    chosen = str(params.get("framework") or "").strip()
    if chosen:
        return load_framework(chosen, templates)
    found = worker_framework(store, worker, date)
    if found is not None:
        return found
    default = str(prompt_set.parameters.get("framework") or "").strip()
    if default:
        return load_framework(default, templates)
    raise InputError(f"template {prompt_set.name!r} needs a competency framework: make a "
                     f"learning agreement for {worker} first, or give --param framework=NAME "
                     f"(available: {', '.join(framework_names(templates)) or 'none'})")


def placement_step(prompt_set: PromptSet, *, store: str | os.PathLike[str] | None, worker: str,
                   date: str, params: dict[str, Any], templates: str | None = None
                   ) -> tuple[PromptSet, dict[str, Any]]:
    """(prompt set, parameters) for a new workbook; unchanged unless it uses a framework."""
    if not uses_framework(prompt_set):
        return prompt_set, params
    fw = resolve_framework(prompt_set, store=store, worker=worker, date=date, params=params,
                           templates=templates)
    if "framework" in prompt_set.parameters:
        params = {**params, "framework": fw.name}
    evidence = (by_competency(collect(store, worker, fw, until=date), fw)
                if prompt_set.pulls_evidence else None)
    sections = expand_competencies(prompt_set.sections, fw, evidence, until=date)
    return dataclasses.replace(prompt_set, sections=sections, framework=fw.snapshot()), params


# ---------------------------------------------------------------- per competency


def expand_competencies(sections: list[dict[str, Any]], fw: Framework,
                        evidence: dict[str, list[Evidence]] | None = None,
                        until: str = "") -> list[dict[str, Any]]:
    """Each ``for_each: competency`` section once per competency (see the module docstring)."""
    out = []
    for s in sections:
        if s.get("for_each") != FOR_EACH:
            out.append(s)
            continue
        for c in fw.competencies:
            items = None if evidence is None else evidence.get(c.id, [])
            out.append(competency_section(s, fw, c, items, until))
    return out


def competency_section(section: dict[str, Any], fw: Framework, c: Competency,
                       items: list[Evidence] | None, until: str = "") -> dict[str, Any]:
    s = copy.deepcopy(section)
    s.pop("for_each", None)
    tail = f"__{c.id}"
    ids = {p["id"] for p in s["prompts"]}
    s["id"] += tail
    s["title"] = f"{s['title']}: {c.short}"
    intro = [s.get("intro", "").strip(), _about(c)]
    if items is not None:
        intro.append(evidence_markdown(items, until))
    s["intro"] = "\n\n".join(x for x in intro if x)
    for p in s["prompts"]:
        p["id"] += tail
        p["competency"] = fw.qualified(c.id)
        for key in ("evidence",):
            if p.get(key) in ids:
                p[key] += tail
        cond = p.get("show_if")
        if cond and cond.get("prompt") in ids:
            cond["prompt"] += tail
        if p.get("level_rating"):
            level_scale(p, fw, c)
    return s


def level_scale(p: dict[str, Any], fw: Framework, c: Competency) -> None:
    """Make a ``level_rating`` prompt a scale over the framework's levels."""
    p["kind"] = "scale"
    p["min"], p["max"] = 1, len(fw.levels)
    p["anchors"] = {str(n): f"{lv.label}: {lv.description}"
                    for n, lv in enumerate(fw.levels, 1)}
    p.setdefault("rates", {"group": fw.title, "item": c.short,
                           "rater": "self" if p["level_rating"] == "self" else "supervisor"})


def _about(c: Competency) -> str:
    lines = [f"_{escape_md(c.description)}_"]
    if c.indicators:
        lines.append("For example:")
        lines.append("\n".join(f"- {escape_md(i)}" for i in c.indicators))
    return "\n\n".join(lines)


def evidence_markdown(items: list[Evidence], until: str = "", shown: int = SHOWN) -> str:
    """The evidence for one competency as markdown: a heading line, then per item its date,
    source, prompt and who tagged it, and the answer quoted. Everything from answers and
    records is escaped."""
    upto = f" up to {escape_md(until)}" if until else ""
    if not items:
        return (f"**Evidence from your records{upto}:** _none tagged to this competency yet_. "
                "Tag answers in your sessions, process recordings and observations "
                "(`supervision-kit tag`, or the review panel in each workbook).")
    n = len(items)
    parts = [f"**Evidence from your records{upto}:** {n} item{'s' if n != 1 else ''}"
             + (f" (the latest {shown} are quoted)" if n > shown else "")]
    for e in items[-shown:]:
        row = f", row {e.row}" if e.row else ""
        how = f" · tagged by {escape_md(e.by)}" if e.how == "tagged" and e.by else ""
        case = f" (case {e.case})" if e.case else ""
        parts.append(f"**{escape_md(e.date)} · {escape_md(e.title + case)}** · "
                     f"_{escape_md(e.label)}{escape_md(row)}_{how}")
        parts.append(quote(e.quote))
        if e.note:
            parts.append(f"Tag note: {escape_md(e.note)}")
    return "\n\n".join(parts)
