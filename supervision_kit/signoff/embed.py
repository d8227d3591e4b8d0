"""Finalize step: copy signatures and addenda into the notebook and show them in a cell."""

from __future__ import annotations

import uuid
from typing import Any

from ..core.state import ROLES, replay, seq_of
from ..core.text import escape_md
from ..core.workbook import META, SIGNOFF_META, Record, embedded_events

SIGNOFF_CELL = "signoff_cell"  # cell metadata flag of the shown sign-off/addenda cell


def when(ev: dict[str, Any]) -> str:
    return str(ev.get("t", ""))[:19].replace("T", " ")


def embed_signoff(rec: Record, nb: dict[str, Any]) -> dict[str, Any]:
    """Signatures/addenda of ``rec`` into ``nb``'s metadata and a shown markdown cell."""
    events = {seq_of(e): e for e in embedded_events(nb)}
    events |= {seq_of(e): e for e in rec.journal.events if e.get("type") in ("sign", "addendum")}
    if not events:
        return nb
    ordered = [events[k] for k in sorted(events)]
    jd = rec.journal
    data: dict[str, Any] = {
        "signatures": [e for e in ordered if e.get("type") == "sign"],
        "addenda": [e for e in ordered if e.get("type") == "addendum"],
        "journal_head": ({"seq": jd.events[-1].get("seq"), "h": jd.events[-1].get("h")}
                         if jd.events else
                         (nb["metadata"][META].get(SIGNOFF_META) or {}).get("journal_head")),
    }
    nb["metadata"][META][SIGNOFF_META] = data
    text = signoff_markdown(data["signatures"], data["addenda"])
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get(META, {}).get(SIGNOFF_CELL):
            cell["source"] = text
            return nb
    cell = {"cell_type": "markdown", "id": uuid.uuid4().hex[:12], "source": text,
            "metadata": {META: {SIGNOFF_CELL: True}}}
    at = next((i for i, c in enumerate(nb["cells"])
               if "signoff" in c.get("metadata", {}).get("tags", [])), len(nb["cells"]))
    nb["cells"].insert(at, cell)
    return nb


def signoff_markdown(signatures: list[dict[str, Any]], addenda: list[dict[str, Any]]) -> str:
    """Readable, escaped markdown of the latest signatures and every addendum."""
    lines = ["## Sign-off", ""]
    state = replay(sorted([*signatures, *addenda], key=seq_of))
    for role in ROLES:
        s = state.signed.get(role)
        if s:
            lines.append(f"- **{role.capitalize()}**: {escape_md(s.get('name', ''))}, signed "
                         f"{escape_md(when(s))} UTC (answers SHA-256 "
                         f"`{escape_md(str(s.get('answers_sha256', ''))[:16])}`)")
        else:
            lines.append(f"- **{role.capitalize()}**: not signed yet")
    lines.append("")
    lines.append("🔒 Locked: signed by both." if state.locked else "Not locked yet.")
    if addenda:
        lines += ["", "### Addenda (added after sign-off)"]
        for a in addenda:
            who = escape_md(a.get("role", "")) + (f" ({escape_md(a['name'])})"
                                                   if a.get("name") else "")
            lines += ["", f"**{escape_md(when(a))} UTC — {who}**", ""]
            lines += ["> " + (escape_md(line) or "&nbsp;") + "  "
                      for line in str(a.get("text", "")).split("\n")]
    return "\n".join(lines)
