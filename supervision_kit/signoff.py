"""Sign-off state: who has signed a workbook, and whether it is locked.

Signatures live in the journal as ``sign`` events (see journal.py); a workbook is locked when
both the worker and the supervisor have signed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import journal as jr
from .store import journal_path

ROLES = ("worker", "supervisor")


def lock_state(path: Path, nb: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"signed": {role: event}, "locked": bool}`` from the journal beside ``path``."""
    signed: dict[str, dict[str, Any]] = {}
    for ev in jr.read_journal(journal_path(Path(path))).events:
        if ev.get("type") == "sign" and ev.get("role") in ROLES:
            signed[ev["role"]] = ev
    return {"signed": signed, "locked": all(r in signed for r in ROLES)}
