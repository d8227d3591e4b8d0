"""Generation step: expand a session's sections around the worker and the cases discussed.

Sections annotated ``scope: worker`` appear once; each run of consecutive ``scope: case``
sections (a *case block*) is repeated for every case of the session, in order, with the case
id recorded on each section (``case``). With two or more cases, prompt and section ids are
suffixed ``__c1``, ``__c2`` … so answers about two cases never share a prompt; a session
about one case keeps the plain ids. Sections without a scope (prompt
sets made before sessions covered several cases) are kept as they are. Pure functions: no I/O.
"""

from __future__ import annotations

import copy
from typing import Any

SUFFIX = "__c{n}"


def has_case_blocks(sections: list[dict[str, Any]]) -> bool:
    return any(s.get("scope") == "case" for s in sections)


def suffix_section(section: dict[str, Any], n: int, case: str, *, plain: bool = False
                   ) -> dict[str, Any]:
    """One section for case number ``n`` (1-based): ids suffixed (unless ``plain``: the only
    case), references rewritten."""
    tail = "" if plain else SUFFIX.format(n=n)
    s = copy.deepcopy(section)
    ids = {p["id"] for p in s.get("prompts", [])}
    s["id"] = s["id"] + tail
    s["case"] = case
    s["scope"] = "case"
    s["title"] = f"{case}: {s['title']}"
    for p in s.get("prompts", []):
        p["id"] += tail
        cond = p.get("show_if")
        if cond and cond.get("prompt") in ids:
            cond["prompt"] += tail
        if p.get("evidence") in ids:
            p["evidence"] += tail
    return s


def expand_cases(sections: list[dict[str, Any]], cases: list[str],
                 before_case: dict[str, list[dict[str, Any]]] | None = None
                 ) -> list[dict[str, Any]]:
    """Worker sections once, each case block once per case (see the module docstring).

    ``before_case`` maps a case id to extra sections (e.g. its carried-forward items) put at
    the start of that case's block, already suffixed by the caller's numbering.
    """
    if not has_case_blocks(sections):
        return list(sections)
    pending = dict(before_case or {})  # only the first case block gets them
    out: list[dict[str, Any]] = []
    block: list[dict[str, Any]] = []

    def flush() -> None:
        plain = len(cases) == 1
        for n, case in enumerate(cases, 1):
            out.extend(suffix_section(s, n, case, plain=plain) for s in pending.get(case, []))
            ordered = sorted(block, key=lambda s: not s.get("_focus"))
            out.extend(suffix_section(s, n, case, plain=plain) for s in ordered)
        block.clear()
        pending.clear()

    for s in sections:
        if s.get("scope") == "case":
            block.append(s)
            continue
        if block:
            flush()
        out.append(s)
    if block:
        flush()
    return out
