"""``fill``: save answers from a script or the CLI, all or nothing, through the append path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..core.append import append
from ..core.errors import InputError
from ..core.prompts import check_value
from ..core.workbook import Record, load_notebook, prompt_index


def fill(
    path: str | os.PathLike[str], responses: dict[str, Any], role: str | None = None
) -> list[dict[str, Any]]:
    """Validate every response, then append them all to the journal (all or nothing)."""
    p = Path(path)
    if not isinstance(responses, dict):
        raise InputError("responses must be a JSON object {prompt_id: value}", path=p)
    if role is not None and role not in ("worker", "supervisor", "joint"):
        raise InputError(f"invalid role {role!r}: use worker, supervisor or joint")
    prompts = prompt_index(load_notebook(p))  # validate before taking any lock
    clean = {}
    for pid, value in responses.items():
        if pid not in prompts:
            raise InputError(f"unknown prompt id {pid!r} in {p.name}", path=p, prompt_id=pid)
        clean[pid] = check_value(prompts[pid], value)

    def events(rec: Record) -> list[dict[str, Any]]:
        return [{"id": pid, "v": v, "by": role or rec.prompts[pid].get("role", "worker"),
                 "src": "fill"} for pid, v in clean.items()]

    return append(p, events, what="fill")
