"""Mark a prompt "not discussed this time", with a reason: it then counts as answered for the
completeness rule (sign), until someone answers it after all."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..core.append import append
from ..core.errors import InputError
from ..core.text import check_name
from ..core.workbook import Record, load_notebook, prompt_index


def mark_not_discussed(path: str | os.PathLike[str], prompt_id: str, reason: str,
                       role: str = "joint") -> dict[str, Any]:
    """Append a ``skip`` event for ``prompt_id`` through the append path."""
    p = Path(path)
    prompts = prompt_index(load_notebook(p))
    if prompt_id not in prompts:
        raise InputError(f"unknown prompt id {prompt_id!r} in {p.name}", path=p,
                         prompt_id=prompt_id)
    reason = check_name(reason, "reason", limit=500)
    if role not in ("worker", "supervisor", "joint"):
        raise InputError(f"invalid role {role!r}: use worker, supervisor or joint")

    def build(rec: Record) -> list[dict[str, Any]]:
        return [{"type": "skip", "id": prompt_id, "reason": reason, "by": role}]

    [ev] = append(p, build, what="not discussed")
    return ev
