"""How a prompt's question is shown: one place for the workbook, the kernel and finalize.

A workbook has one code cell per section. Before it runs, that cell's outputs are its
questions (``question_output``, one per prompt: markdown, so the workbook reads as a form even
before Run All and a finalized record shows each question above its answer). When it runs,
the kernel shows the question as the widget's own label (``<label for>``: the input's
accessible name) with the help line (``help_html``) under it. Text made from answers
(carried-forward items) is escaped; template help is markdown written by the template's author.
"""

from __future__ import annotations

import html
import re
from typing import Any

from ..core.text import escape_md

QUESTION_KEY = "question"  # output metadata[supervision_kit][question] = prompt id
OUT = "sk-out"  # class on everything a workbook shows (kernel/look.py styles those cells)
ROLE_BADGE = {"supervisor": "for the supervisor", "joint": "together"}
_PLAIN = re.compile(r"[\\`*_\[\]<>&#|~]")  # help without these needs no markdown parser


def badges(p: dict[str, Any]) -> list[str]:
    """Short words shown beside a question: who answers it, and whether it is required."""
    out = []
    role = ROLE_BADGE.get(p.get("role", "worker"))
    if role:
        out.append(role)
    if p.get("required"):
        out.append("required")
    return out


def condition_text(p: dict[str, Any], titles: dict[str, str]) -> str:
    """'Only needed if “Q” is “A” or “B”.' as plain text ('' when the prompt always shows)."""
    cond = p.get("show_if")
    if not cond:
        return ""
    choices = " or ".join(f"“{v}”" for v in cond["in"])
    return f"Only needed if “{titles.get(cond['prompt'], cond['prompt'])}” is {choices}."


def question_markdown(p: dict[str, Any], titles: dict[str, str]) -> str:
    """The question, its badges, help and condition as markdown (labels escaped)."""
    tags = "".join(f" · _{b}_" for b in badges(p))
    parts = [f"**{escape_md(p['label'])}**{tags}"]
    if p.get("help"):  # template help is markdown; help made from answers is escaped
        parts.append(escape_md(p["help"].strip()) if p.get("carried") else p["help"].strip())
    cond = condition_text(p, titles)
    if cond:
        parts.append(f"_{escape_md(cond)}_")
    return "\n\n".join(parts)


def question_html(p: dict[str, Any], titles: dict[str, str]) -> str:
    """The question as HTML (label escaped), marked as the workbook's own output."""
    return (f"<div class='{OUT} sk-q-out'><p><b>{html.escape(str(p['label']))}</b></p>"
            f"{help_html(p, titles)}</div>")


def question_output(p: dict[str, Any], titles: dict[str, str]) -> dict[str, Any]:
    """A display_data output showing the question (no answer in it; ``verify`` ignores it)."""
    return {
        "output_type": "display_data",
        "metadata": {"supervision_kit": {QUESTION_KEY: p["id"]}},
        "data": {"text/html": question_html(p, titles),
                 "text/markdown": question_markdown(p, titles),
                 "text/plain": str(p["label"])},
    }


def markdown_html(text: str) -> str:
    """Template help (markdown) as HTML, raw HTML in it escaped."""
    if not _PLAIN.search(text):
        paras = [t.strip() for t in text.split("\n\n") if t.strip()]
        return "".join(f"<p>{html.escape(t)}</p>" for t in paras)
    import mistune

    return str(mistune.create_markdown(escape=True)(text))


def help_html(p: dict[str, Any], titles: dict[str, str]) -> str:
    """The line(s) under a question in the live form: badges, help and condition, as HTML."""
    parts = []
    tags = badges(p)
    if tags:
        parts.append("<p class='sk-badges'>" + " ".join(
            f"<span class='sk-badge'>{html.escape(b)}</span>" for b in tags) + "</p>")
    text = str(p.get("help") or "").strip()
    if text:
        parts.append(f"<p>{html.escape(text)}</p>" if p.get("carried") else markdown_html(text))
    cond = condition_text(p, titles)
    if cond:
        parts.append(f"<p class='sk-cond'>{html.escape(cond)}</p>")
    return "".join(parts)


def titles_of(prompts: dict[str, dict[str, Any]] | list[dict[str, Any]]) -> dict[str, str]:
    """Prompt id -> label, for condition texts."""
    items = prompts.values() if isinstance(prompts, dict) else prompts
    return {p["id"]: str(p.get("label", p["id"])) for p in items}
