"""``workshop collect`` and ``summary``: every participant's answers (workbooks, journals and
downloaded copies) in one table, and an anonymised facilitator notebook (+ HTML)."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
from pathlib import Path
from typing import Any

from ..core import journal as jr
from ..core.data import MAX_NOTEBOOK, parse_json, read_regular
from ..core.errors import InputError, KitError
from ..core.prompts import check_value, is_answered
from ..core.store import (
    atomic_write,
    iter_workbooks,
    make_private_dir,
)
from ..core.text import escape_md
from ..core.workbook import META, Record, open_record, prompt_index_of
from .batch import INDEX_NAME, MARK, SUMMARY_NAME, write_page
from .vignettes import TEMPLATE, load_vignette

# ---------------------------------------------------------------- collect


def _workshop_records(folder: Path) -> tuple[list[Record], list[str]]:
    """Workshop workbooks (and downloaded copies) in a folder, read by the core's read rule;
    skipped files with reasons."""
    found, skipped = [], []
    for path in iter_workbooks(folder):
        try:
            raw = parse_json(read_regular(path, MAX_NOTEBOOK, "workbook"), path)
            if isinstance(raw, dict) and MARK in (raw.get("metadata") or {}):
                continue  # our own index/start/summary pages
            rec = open_record(path)
        except KitError as exc:
            skipped.append(f"{path}: {str(exc).split(': ', 1)[-1]}")
            continue
        if rec.info.get("template") != TEMPLATE:
            skipped.append(f"{path}: not a workshop workbook")
            continue
        found.append(rec)
    return found, skipped


def _vignette_prompts(name: str, cache: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """The vignette's own prompts (from the templates, never from a handed-in file)."""
    if name not in cache:
        try:
            v = load_vignette(name)
            cache[name] = {pid: p for pid, p in
                           prompt_index_of(v.prompt_set.to_dict()).items()}
        except KitError:
            cache[name] = None
    return cache[name]


SHAPE = ("kind", "options", "min", "max")


def _differs(own: dict[str, dict[str, Any]], vignette: dict[str, dict[str, Any]]) -> str:
    """Why a hand-in's own prompt definitions are not the vignette's ('' when they are)."""
    extra = [pid for pid in own if pid not in vignette]
    if extra:
        return f"unknown prompt {extra[0]!r}"
    for pid, p in own.items():
        want = vignette[pid]
        if any(p.get(k) != want.get(k) for k in SHAPE) or \
                [c.get("id") for c in p.get("columns", [])] != \
                [c.get("id") for c in want.get("columns", [])]:
            return f"prompt {pid!r} was changed"
    return ""


def collect_records(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Answers of every participant as plain records (no pandas), newest value per prompt.

    Each file is read by the core's read rule and its answers are checked against the
    vignette's own prompt set (a crafted hand-in cannot bring its own prompts or scales).
    A participant may appear several times (server workbook + downloaded copies, or a resumed
    session with a new workbook id): records are merged by (vignette, participant code).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder", path=folder)
    records, skipped = _workshop_records(folder)
    merged: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    prompts: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    vignettes: dict[str, Any] = {}
    for rec in records:
        key = (str(rec.info.get("vignette", "")), str(rec.info.get("case_id", "")))
        index = _vignette_prompts(key[0], vignettes)
        if index is None:
            skipped.append(f"{rec.path}: unknown vignette {key[0]!r}")
            continue
        differs = _differs(rec.prompts, index)
        if differs:
            skipped.append(f"{rec.path}: its prompts are not the vignette's ({differs}); "
                           "left out")
            continue
        for pid, p in index.items():
            if pid not in prompts:
                prompts[pid] = p
                order.append(pid)
        is_download = "download" in rec.nb["metadata"][META]
        journal = rec.journal.answers()
        slot = merged.setdefault(key, {})
        bad = 0
        for pid, a in rec.merged.items():
            if pid not in index or not is_answered(a.get("v")):
                continue
            try:
                value = check_value(index[pid], a["v"])
            except InputError:
                bad += 1
                continue
            src = ("journal" if str(journal.get(pid, {}).get("t", "")) == a["t"] and pid in journal
                   else "download" if is_download else "notebook")
            old = slot.get(pid)
            if old is None or a["t"] >= old["t"]:
                slot[pid] = {"value": value, "t": a["t"], "source": src,
                             "file": str(rec.path.relative_to(folder))}
        if bad:
            skipped.append(f"{rec.path}: {bad} answer(s) do not fit the vignette's prompts; "
                           "left out")
    rows = []
    for (vig, code), answers in sorted(merged.items()):
        for pid in order:
            if pid in answers:
                p = prompts[pid]
                rows.append({"participant": code, "vignette": vig, "prompt_id": pid,
                             "section": p["section"], "section_title": p["section_title"],
                             "kind": p["kind"], "label": p.get("label", pid), **answers[pid]})
    participants = sorted({code for (_v, code), answers in merged.items() if answers})
    return {"rows": rows, "prompts": [prompts[p] for p in order], "participants": participants,
            "skipped": skipped, "expected": _expected(folder)}


def _expected(folder: Path) -> list[str]:
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        meta = json.loads((folder / INDEX_NAME).read_text(encoding="utf-8"))["metadata"][MARK]
        return [str(c) for c in meta["codes"]]
    return []


def collect(folder: str | os.PathLike[str]) -> Any:
    """All answers as a pandas DataFrame: one row per participant and answered prompt.

    Columns: participant, vignette, prompt_id, section, kind, label, value, t, source, file.
    ``df.attrs`` holds ``skipped`` (files that are not workshop workbooks, with reasons).
    """
    import pandas as pd

    rec = collect_records(folder)
    cols = ["participant", "vignette", "prompt_id", "section", "kind", "label", "value", "t",
            "source", "file"]
    df = pd.DataFrame(rec["rows"], columns=cols)
    df.attrs["skipped"] = rec["skipped"]
    df.attrs["participants"] = rec["participants"]
    return df


# ---------------------------------------------------------------- summary


def summary(
    folder: str | os.PathLike[str],
    *,
    show_codes: bool = False,
    html: bool = False,
    out: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """An anonymised facilitator notebook (and optionally HTML) of everyone's answers.

    Counts per prompt, charts of scale/choice answers, free text grouped by prompt in a
    neutral order. Participant codes appear only with ``show_codes``.
    """
    folder = Path(folder)
    rec = collect_records(folder)
    if not rec["rows"] and not rec["participants"]:
        raise InputError(f"{folder}: no workshop workbooks with answers found")
    out_path = Path(out) if out else folder / SUMMARY_NAME
    by_prompt: dict[str, list[dict[str, Any]]] = {}
    for r in rec["rows"]:
        by_prompt.setdefault(r["prompt_id"], []).append(r)
    n = len(rec["participants"])
    vignettes = sorted({r["vignette"] for r in rec["rows"]})
    cells: list[str] = []
    attachments: dict[int, dict[str, Any]] = {}
    expected = f" of {len(rec['expected'])} invited" if rec["expected"] else ""
    cells.append(
        f"# Workshop summary: {escape_md(', '.join(vignettes) or 'no answers yet')}\n\n"
        f"**{n}** participant(s) with answers{expected}. Generated {jr.now()[:16]} UTC.\n\n"
        + ("_Participant codes are shown (--show-codes)._" if show_codes else
           "_Anonymised: no participant codes; answers are listed in alphabetical order, not "
           "by person._"))
    table = ["| Section | Prompt | Answers |", "|---|---|---|"]
    for p in rec["prompts"]:
        table.append(f"| {escape_md(_section(p))} | {escape_md(p.get('label', p['id']))} | "
                     f"{len(by_prompt.get(p['id'], []))} of {n} |")
    cells.append("## Responses per prompt\n\n" + "\n".join(table))
    section = None
    for p in rec["prompts"]:
        rows = by_prompt.get(p["id"], [])
        head = ""
        if p["section"] != section:
            section = p["section"]
            head = f"## {escape_md(_section(p))}\n\n"
        text, png = _prompt_summary(p, rows, show_codes)
        if png:
            attachments[len(cells)] = {f"{p['id']}.png": {"image/png": png}}
            text += f"\n\n![{escape_md(p['id'])}](attachment:{p['id']}.png)"
        cells.append(head + f"### {escape_md(p.get('label', p['id']))}\n\n" + text)
    meta = {"kind": "summary", "vignettes": vignettes, "participants": n,
            "show_codes": show_codes, "created": jr.now()}
    make_private_dir(out_path.parent)
    write_page(out_path, cells, meta, attachments)
    result: dict[str, Any] = {"notebook": out_path, "participants": n,
                              "skipped": rec["skipped"]}
    if html:
        result["html"] = _to_html(out_path)
    return result


def _section(p: dict[str, Any]) -> str:
    """A prompt's section as people know it: its title (the id only if it has none)."""
    return str(p.get("section_title") or p["section"])


def _prompt_summary(p: dict[str, Any], rows: list[dict[str, Any]],
                    show_codes: bool) -> tuple[str, str | None]:
    """Markdown for one prompt and an optional base64 PNG chart."""
    if not rows:
        return "_No answers._", None
    kind = p["kind"]
    if kind in ("scale", "choice", "multi"):
        if kind == "scale":
            labels = [str(i) for i in range(p["min"], p["max"] + 1)]
        else:
            labels = list(p["options"])
        counts = dict.fromkeys(labels, 0)
        for r in rows:
            for val in (r["value"] if kind == "multi" else [r["value"]]):
                if str(val) in counts:
                    counts[str(val)] += 1
        lines = ["| Answer | Count |", "|---|---|"]
        anchors = p.get("anchors", {})
        for k, c in counts.items():
            label = f"{k} · {anchors[k]}" if k in anchors else k
            lines.append(f"| {escape_md(label)} | {c} |")
        text = "\n".join(lines)
        if show_codes:
            text += "\n\n" + "; ".join(f"{escape_md(r['participant'])}: "
                                       f"{escape_md(_plain(r['value']))}" for r in rows)
        return text, _bar_chart(p.get("label", p["id"]), counts, horizontal=kind != "scale")
    items = []
    for r in rows:
        who = f"**{escape_md(r['participant'])}:** " if show_codes else ""
        if kind == "table":
            cols = p.get("columns", [])
            md = ["| " + " | ".join(escape_md(c["label"]) for c in cols) + " |",
                  "|" + "---|" * len(cols)]
            for row in r["value"]:
                md.append("| " + " | ".join(
                    escape_md(_plain(row.get(c["id"]))).replace("\n", "<br>") or " "
                    for c in cols) + " |")
            items.append((json.dumps(r["value"], sort_keys=True), f"{who}\n\n" + "\n".join(md)))
        else:
            body = "\n".join("> " + (escape_md(ln) or "&nbsp;") + "  "
                             for ln in _plain(r["value"]).split("\n"))
            items.append((_plain(r["value"]).lower(), (who + "\n\n" if who else "") + body))
    if not show_codes:
        items.sort(key=lambda x: x[0])  # neutral order: nothing links an answer to a person
    return f"{len(rows)} answer(s):\n\n" + "\n\n---\n\n".join(md for _k, md in items), None


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(map(str, value))
    return "" if value is None else str(value)


def _bar_chart(title: str, counts: dict[str, int], horizontal: bool) -> str:
    """A small bar chart as base64 PNG (matplotlib Figure API: no pyplot global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = [k if len(k) <= 40 else k[:38] + "…" for k in counts]
    fig = Figure(figsize=(6, 0.45 * len(labels) + 1.2 if horizontal else 3), dpi=96)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if horizontal:
        ax.barh(labels[::-1], list(counts.values())[::-1], color="#4c72b0")
        ax.set_xlabel("participants")
    else:
        ax.bar(labels, list(counts.values()), color="#4c72b0")
        ax.set_ylabel("participants")
    ax.set_title(title if len(title) <= 70 else title[:68] + "…", fontsize=10)
    locator: Any = (ax.xaxis if horizontal else ax.yaxis).get_major_locator()
    locator.set_params(integer=True)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _to_html(nb_path: Path) -> Path:
    """The summary as one self-contained HTML page (charts inline, nothing from the network)."""
    import nbformat

    from ..export.html import offline_html

    body = offline_html(nbformat.read(nb_path, as_version=4))
    out = nb_path.with_suffix(".html")
    atomic_write(out, body)
    return out


