"""The answer mirror: how one answer is shown in its cell's output.

A ``display_data`` output with the answer as ``ANSWER_MIME`` JSON (read back by the read rule)
plus escaped markdown and plain text for people and for JupyterLab's renderer. The kernel,
``finalize`` and ``verify`` all use ``answer_output``, so a mirror can be re-derived exactly.
"""

from __future__ import annotations

import json
from typing import Any

from .prompts import is_answered
from .text import escape_md
from .workbook import ANSWER_MIME


def answer_output(prompt: dict[str, Any], value: Any, t: str = "") -> dict[str, Any]:
    """A display_data output holding one answer: custom MIME + readable markdown + text."""
    md = answer_markdown(prompt, value, t)
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {
            ANSWER_MIME: {
                "id": prompt["id"],
                "kind": prompt["kind"],
                "label": prompt.get("label", ""),
                "value": value,
                "t": t,
            },
            "text/markdown": md,
            "text/plain": f"{prompt.get('label', prompt['id'])}: {plain(value)}",
        },
    }


def quote(text: str) -> str:
    lines = str(text).split("\n")
    return "\n".join("> " + (escape_md(line) or "&nbsp;") + "  " for line in lines)


def answer_markdown(prompt: dict[str, Any], value: Any, t: str = "") -> str:
    """The answer as markdown that shows every character literally (the prompt's label is in
    the markdown cell just above, so it is not repeated here)."""
    if not is_answered(value):
        return "_No answer yet._"
    when = f" {t[:16].replace('T', ' ')} UTC" if t else ""
    head = f"<small>✓ saved{when}</small>\n\n"
    kind = prompt["kind"]
    if kind == "table":
        cols = prompt.get("columns", [])
        rows = [
            "| " + " | ".join(escape_md(c["label"]) for c in cols) + " |",
            "|" + "---|" * len(cols),
        ]
        for row in value if isinstance(value, list) else []:
            row = row if isinstance(row, dict) else {}
            cells = [
                escape_md(plain(row.get(c["id"]))).replace("\n", "<br>") or " " for c in cols
            ]
            rows.append("| " + " | ".join(cells) + " |")
        return head + "\n".join(rows)
    if kind == "scale":
        anchor = prompt.get("anchors", {}).get(str(value), "")
        return head + quote(f"{value} — {anchor}" if anchor else str(value))
    if kind == "multi" and isinstance(value, list):
        return head + "\n".join(f"- {escape_md(v)}" for v in value)
    return head + quote(plain(value))


def plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return json.dumps(value, ensure_ascii=False)
        return "; ".join(map(str, value))
    return str(value)
