"""Workbook format versions: checked on every load, older ones upgraded in memory.

- Format 1 (supervision-kit 0.1): prompt sets carried no annotations; the kit knew the
  session template's prompt ids. ``upgrade`` adds the annotations those ids meant, so charts,
  carry-forward and the lock rule read a 0.1 workbook exactly like a new one. This table is the
  only place in the package that names prompt ids, and it is frozen: it describes files that
  already exist.
- Format 2: prompt sets declare their meaning (``docs/architecture.md``, "Annotations").
- Format 3: a section's prompts share one answer cell (metadata ``prompts``, a list), so Run
  All executes a few dozen cells instead of one per prompt. Format-2 cells (``prompt``, one id)
  read as they are; the format number rises so that an older supervision-kit, which knows
  only one prompt per cell, refuses the file instead of finalizing it without its answers.

``finalize`` writes the upgraded form, so a finalized workbook is always current.
"""

from __future__ import annotations

import copy
from typing import Any

from .errors import FormatError

FORMAT = 3
META = "supervision_kit"

_V1_COMPONENTS = {"active_listening": "Active listening", "trust_building": "Trust building",
                  "empathy": "Empathy", "respect": "Respect", "collaboration": "Collaboration"}
_V1_METHODS = {"relationship": "Therapeutic relationship", "assessment": "Comprehensive assessment",
               "planning": "Collaborative planning",
               "evidence_based": "Evidence-based interventions",
               "strengths": "Strengths-based practice",
               "cultural": "Cultural competence and humility",
               "interdisciplinary": "Interdisciplinary collaboration",
               "technology": "Technology", "ethics": "Ethical decision-making",
               "evaluation": "Ongoing evaluation"}
_V1_GROUPS = {"cc": ("Client-centred practice", _V1_COMPONENTS),
              "cw": ("Casework methods", _V1_METHODS)}
_V1_CARRY = {
    "goals": {"as": "goals", "text": "goal", "review": "gas", "score": "attainment",
              "weight": "weight", "context": ["expected", "target_date"]},
    "actions": {"as": "actions", "text": "action", "review": "status",
                "context": ["owner", "due"]},
}


def _v1_annotations(pid: str) -> dict[str, Any]:
    for prefix, (group, items) in _V1_GROUPS.items():
        for item, title in items.items():
            if pid == f"{prefix}_{item}_rating":
                return {"rates": {"group": group, "item": title, "rater": "self"}}
            if pid == f"{prefix}_{item}_rating_sup":
                return {"rates": {"group": group, "item": title, "rater": "supervisor"}}
    simple: dict[str, dict[str, Any]] = {
        "duration_minutes": {"duration": "minutes"},
        "outcome_score": {"outcome": "score"},
        "outcome_measure": {"outcome": "name"},
        "session_rating": {"outcome": "session_rating"},
        "wellbeing": {"private": True},
    }
    if pid in simple:
        return simple[pid]
    if pid in _V1_CARRY:
        return {"carry": dict(_V1_CARRY[pid])}
    return {}


def _upgrade_1_to_2(nb: dict[str, Any]) -> None:
    meta = nb["metadata"][META]
    ps = meta["prompt_set"]
    is_session = ps.get("name") == "session"
    if is_session:
        ps.setdefault("kind", "session")
        ps.setdefault("carries_forward", True)
    elif ps.get("name") == "progress":
        ps.setdefault("kind", "progress")
    for s in ps.get("sections", []):
        for p in s.get("prompts", []):
            ctx = p.get("context") if isinstance(p.get("context"), dict) else {}
            if "goal" in ctx and isinstance(ctx["goal"], dict):
                p.setdefault("carried", {**_V1_CARRY["goals"], "from": "goals"})
                p["context"] = {"item": ctx["goal"]}
            elif "action" in ctx and isinstance(ctx["action"], dict):
                p.setdefault("carried", {**_V1_CARRY["actions"], "from": "actions"})
                p["context"] = {"item": ctx["action"]}
            elif is_session:
                for k, v in _v1_annotations(p["id"]).items():
                    p.setdefault(k, v)
    meta["format"] = 2


def _upgrade_2_to_3(nb: dict[str, Any]) -> None:
    nb["metadata"][META]["format"] = 3  # the reader takes both kinds of answer cell


_STEPS = {1: _upgrade_1_to_2, 2: _upgrade_2_to_3}


def upgrade(nb: dict[str, Any], source: Any = "<workbook>") -> dict[str, Any]:
    """``nb`` in the current format (a copy when anything changed); FormatError when newer."""
    found = nb["metadata"][META].get("format", 1)
    if isinstance(found, bool) or not isinstance(found, int) or found < 1:
        raise FormatError(f"{source}: unknown workbook format {found!r}", path=source,
                          found=found, supported=FORMAT)
    if found > FORMAT:
        raise FormatError(f"{source}: made by a newer supervision-kit (workbook format {found}; "
                          f"this version reads up to {FORMAT}); upgrade supervision-kit",
                          path=source, found=found, supported=FORMAT)
    if found == FORMAT:
        return nb
    nb = dict(nb)
    nb["metadata"] = dict(nb["metadata"])
    nb["metadata"][META] = copy.deepcopy(nb["metadata"][META])
    for step in range(found, FORMAT):
        _STEPS[step](nb)
    return nb
