"""Training workshops: fictional vignettes, one workbook per participant, facilitator summary.

``generate`` renders the workshop workbook ONCE (vignette on top, then warm-up, the vignette's
prompt sections and the debrief) and copies it per participant code, changing only the code,
file name and workbook id, so 30 participants take a fraction of a second. ``collect`` reads
workbooks, journals and participants' downloaded copies into one table; ``summary`` writes an
anonymised facilitator notebook (+ HTML). ``download_panel`` gives participants a one-click
download of a finalized copy and an upload to resume in a new (Binder) session.

Public hosts (mybinder.org) are detected from the environment BinderHub gives each server:
workbooks then show a "training only" banner and only workshop workbooks open.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import dataclasses
import datetime as dt
import html
import io
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from . import journal as jr
from .errors import ConflictError, InputError, WorkbookError
from .prompts import check_value, is_answered, templates_dir
from .record import META, escape_md, load_notebook, notebook_answers, prompt_index, workbook_info
from .store import (
    atomic_write,
    check_date,
    check_id,
    iter_workbooks,
    journal_path,
    make_private_dir,
)

TEMPLATE = "workshop"
MARK = "supervision_kit_workshop"  # metadata key of the index, start and summary notebooks
INDEX_NAME = "index.ipynb"
START_NAME = "START.ipynb"
SUMMARY_NAME = "summary.ipynb"
MAX_PARTICIPANTS = 500
MAX_UPLOAD = 20 * 1024 * 1024
DATA_URI_LIMIT = 1_500_000  # bytes; larger downloads are offered as a file in the folder
_PLACEHOLDER = "SKPARTICIPANTCODEX"

# Set by BinderHub's spawner for every launched server (binder_* user options upper-cased).
# JUPYTERHUB_* alone is NOT a public host: organisations run their own private hubs.
BINDER_ENV = ("BINDER_LAUNCH_HOST", "BINDER_REQUEST", "BINDER_REPO_URL",
              "BINDER_PERSISTENT_REQUEST", "BINDER_REF_URL")
ENV_PUBLIC = "SUPERVISION_KIT_PUBLIC_HOST"  # "1" forces public mode, "0" turns it off
BANNER = "training only — do not enter real client information"


# ---------------------------------------------------------------- vignettes


@dataclasses.dataclass
class Vignette:
    name: str
    title: str
    setting: str
    learning_aims: list[str]
    uses: list[str]
    body: str
    path: Path
    prompt_set: Any = None  # the composed workshop prompt set (set by parse_vignette)

    def markdown(self) -> str:
        """The vignette as shown at the top of each participant's workbook."""
        aims = "\n".join(f"- {a}" for a in self.learning_aims)
        return (f"---\n\n## Vignette: {self.title}\n\n{self.body.strip()}\n\n"
                f"### Learning aims\n\n{aims}\n\n---")


def vignettes_dir(templates: str | None = None) -> Path:
    return templates_dir(templates) / "vignettes"


def list_vignettes(templates: str | None = None) -> list[str]:
    return sorted(p.stem for p in vignettes_dir(templates).glob("*.md"))


def load_vignette(name: str, templates: str | None = None) -> Vignette:
    """A vignette by name (or path to a .md file), validated; InputError names the file."""
    path = Path(name)
    if path.suffix != ".md":
        check_id(name, "vignette name")
        path = vignettes_dir(templates) / f"{name}.md"
        if not path.is_file():
            raise InputError(f"unknown vignette {name!r}; available: "
                             f"{', '.join(list_vignettes(templates)) or 'none'}")
    return parse_vignette(path, templates)


def parse_vignette(path: Path, templates: str | None = None) -> Vignette:
    """Parse YAML front matter + markdown body and check every field."""
    import yaml

    def bad(msg: str) -> InputError:
        return InputError(f"{path}: invalid vignette: {msg}")

    try:
        text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read vignette: {exc}") from None
    m = re.match(r"---\n(.*?)\n---\n(.*)\Z", text, re.S)
    if not m:
        raise bad("must start with YAML front matter between '---' lines")
    try:
        meta = yaml.safe_load(m.group(1))
    except yaml.YAMLError as exc:
        raise bad(f"front matter is not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(meta, dict):
        raise bad("front matter must be a mapping")
    for key in ("name", "title", "setting"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            raise bad(f"'{key}' must be non-empty text")
    if meta["name"] != path.stem:
        raise bad(f"name {meta['name']!r} does not match the file name {path.stem!r}")
    if meta.get("fictional") is not True:
        raise bad("'fictional: true' is required (training material must be invented)")
    for key in ("learning_aims", "uses"):
        val = meta.get(key)
        if not isinstance(val, list) or not val or not all(isinstance(v, str) for v in val):
            raise bad(f"'{key}' must be a non-empty list of text")
    for ref in meta["uses"]:
        if not re.fullmatch(r"[A-Za-z0-9_-]+:[A-Za-z0-9_-]+", ref):
            raise bad(f"'uses' entry {ref!r} must look like 'prompt_set:section_id'")
    body = m.group(2).strip()
    if not body:
        raise bad("the vignette text (after the front matter) is empty")
    v = Vignette(name=meta["name"], title=meta["title"].strip(), setting=meta["setting"].strip(),
                 learning_aims=meta["learning_aims"], uses=meta["uses"], body=body, path=path)
    try:
        v.prompt_set = workshop_prompt_set(v, templates)
    except InputError as exc:
        raise bad(str(exc)) from None
    return v


def workshop_prompt_set(v: Vignette, templates: str | None = None) -> Any:
    """The workshop prompt set with the vignette's sections between warm-up and debrief."""
    from .prompts import load_prompt_set, validate_prompt_set

    base = load_prompt_set(TEMPLATE, templates)
    sets: dict[str, Any] = {}
    used = []
    for ref in v.uses:
        set_name, section_id = ref.split(":", 1)
        if set_name not in sets:
            try:
                sets[set_name] = load_prompt_set(set_name, templates)
            except InputError:
                raise InputError(f"'uses' names unknown prompt set {set_name!r}") from None
        found = [s for s in sets[set_name].sections if s["id"] == section_id]
        if not found:
            raise InputError(f"'uses' names unknown section {ref!r}")
        used.append({k: val for k, val in copy.deepcopy(found[0]).items() if k != "when"})
    before = [s for s in base.sections if s["id"] != "debrief"]
    after = [s for s in base.sections if s["id"] == "debrief"]
    data = base.to_dict() | {"sections": [*before, *used, *after]}
    return validate_prompt_set(data, f"workshop + {', '.join(v.uses)}")


# ---------------------------------------------------------------- generate


def participant_codes(participants: int | None = None, codes_file: str | None = None) -> list[str]:
    """``P01..PNN`` or the codes in a file (one a line; blank lines and # comments skipped)."""
    if (participants is None) == (codes_file is None):
        raise InputError("give either --participants N or --codes FILE")
    if codes_file is not None:
        try:
            lines = Path(codes_file).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise InputError(f"{codes_file}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{codes_file}: cannot read: {exc}") from None
        codes = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
        for n, c in enumerate(codes, 1):
            try:
                check_id(c, "participant code")
            except InputError as exc:
                raise InputError(f"{codes_file}: code {n}: {exc}") from None
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise InputError(f"{codes_file}: duplicate participant code {dup[0]!r}")
    else:
        if not isinstance(participants, int) or not 1 <= participants <= MAX_PARTICIPANTS:
            raise InputError(f"--participants must be 1..{MAX_PARTICIPANTS}")
        width = max(2, len(str(participants)))
        codes = [f"P{i:0{width}d}" for i in range(1, participants + 1)]
    if not codes or len(codes) > MAX_PARTICIPANTS:
        raise InputError(f"need 1..{MAX_PARTICIPANTS} participant codes, got {len(codes)}")
    return codes


def workbook_name(code: str) -> str:
    return f"{check_id(code, 'participant code')}-{TEMPLATE}.ipynb"


def generate(
    vignette: str,
    out: str | os.PathLike[str],
    *,
    participants: int | None = None,
    codes: list[str] | None = None,
    codes_file: str | None = None,
    date: str | None = None,
    templates: str | None = None,
) -> dict[str, Any]:
    """One workbook per participant + a facilitator index + a participant start page.

    Renders once and copies. Refuses (before writing anything) if a workbook already exists.
    """
    import nbformat
    from nbformat.sign import NotebookNotary

    from .generate import load_template, render_workbook, write_new

    t0 = time.perf_counter()
    if codes is None:
        codes = participant_codes(participants, codes_file)
    else:
        codes = [check_id(c, "participant code") for c in codes]
    v = load_vignette(vignette, templates)
    date = check_date(date)
    out = Path(out)
    clash = [out / workbook_name(c) for c in codes if (out / workbook_name(c)).exists()]
    clash += [out / n for n in (INDEX_NAME, START_NAME) if (out / n).exists()]
    if clash:
        raise ConflictError(f"{clash[0]} already exists; choose an empty --out folder")
    nb_tpl, _ = load_template(TEMPLATE, templates)
    prompt_set = v.prompt_set
    info = {"case_id": _PLACEHOLDER, "session_date": date, "worker": _PLACEHOLDER,
            "supervisor": "", "focus": "", "vignette": v.name, "vignette_title": v.title}
    rendered = render_workbook(nb_tpl, prompt_set, info, {}, workbook_file=workbook_name(
        _PLACEHOLDER), header_extra=v.markdown())
    nbformat.validate(rendered)  # once: the copies differ only in strings
    shared = json.loads(json.dumps(rendered))
    notary = NotebookNotary()
    make_private_dir(out)
    paths = []
    for code in codes:
        nb = copy.deepcopy(shared)
        for cell in nb["cells"]:
            if "header" in cell["metadata"].get("tags", []):
                cell["source"] = cell["source"].replace(_PLACEHOLDER, escape_md(code))
        nb["metadata"][META]["workbook"]["id"] = str(uuid.uuid4())
        path = out / workbook_name(code)
        write_new(path, json.loads(json.dumps(nb).replace(_PLACEHOLDER, code)),
                  notary=notary, validate=False)
        paths.append(path)
    manifest = {"kind": "index", "vignette": v.name, "vignette_title": v.title, "date": date,
                "codes": codes, "created": jr.now()}
    _write_markdown_nb(out / INDEX_NAME, _index_cells(v, codes, date, out), manifest)
    _write_markdown_nb(out / START_NAME, _start_cells(v, codes), {**manifest, "kind": "start",
                                                                  "codes": []})
    return {"out": out, "workbooks": paths, "index": out / INDEX_NAME,
            "start": out / START_NAME, "seconds": time.perf_counter() - t0}


def _write_markdown_nb(path: Path, cells: list[str], meta: dict[str, Any],
                       attachments: dict[int, dict[str, Any]] | None = None) -> None:
    nb = {
        "cells": [
            {"cell_type": "markdown", "id": uuid.uuid4().hex[:12], "metadata": {},
             "source": src} | ({"attachments": attachments[i]}
                               if attachments and i in attachments else {})
            for i, src in enumerate(cells)
        ],
        "metadata": {MARK: meta, "kernelspec": {"display_name": "Python 3", "language": "python",
                                               "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    atomic_write(path, json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def _index_cells(v: Vignette, codes: list[str], date: str, out: Path) -> list[str]:
    rows = "\n".join(f"| {escape_md(c)} | [{workbook_name(c)}]({workbook_name(c)}) |"
                     for c in codes)
    folder = out.as_posix().strip("/")
    return [
        f"# Workshop: {escape_md(v.title)} (facilitator index)\n\n"
        f"**Date** {date} · **Participants** {len(codes)} · **Vignette** `{v.name}`\n\n"
        f"_Setting:_ {escape_md(v.setting)}\n\n"
        "Fictional training material: participants must not enter real client information.",
        "## Participants\n\nGive each participant one code; the code is the only thing that "
        f"links a workbook to a person, so keep that list to yourself.\n\n"
        f"| Code | Workbook |\n|---|---|\n{rows}",
        "## Launch links\n\nOn Binder every participant gets their own server from the repository. "
        "Share the start page, or one link per participant:\n\n"
        f"`https://mybinder.org/v2/gh/<org>/<repo>/<ref>?urlpath=lab/tree/{folder}/{START_NAME}`"
        f"\n\n`https://mybinder.org/v2/gh/<org>/<repo>/<ref>?urlpath=lab/tree/{folder}/"
        f"{workbook_name(codes[0])}`",
        "## After the session\n\nBinder deletes a server after about ten idle minutes. Ask "
        "participants to press **Download my workbook** at the end and send you the file. Put "
        "the files in one folder, then:\n\n"
        "```\nsupervision-kit workshop collect FOLDER --format csv > answers.csv\n"
        "supervision-kit workshop summary FOLDER --html\n```\n\n"
        "The summary is anonymised: it shows no participant codes unless you add `--show-codes`.",
    ]


def _start_cells(v: Vignette, codes: list[str]) -> list[str]:
    links = " · ".join(f"[{escape_md(c)}]({workbook_name(c)})" for c in codes)
    return [
        f"# Welcome to the workshop: {escape_md(v.title)}\n\n"
        f"> ⚠️ **{BANNER.capitalize()}.** Everything here is invented. This server is public "
        "and is deleted after about ten idle minutes.",
        "## 1. Open your workbook\n\nYour facilitator gives you a participant code (not your "
        f"name). Click it:\n\n{links}",
        "## 2. Start it\n\nIn the workbook choose **Run ▸ Run All Cells**. Your answers are "
        "saved as you type.",
        "## 3. Before you leave\n\nPress **Download my workbook** at the bottom of the workbook "
        "and keep the file. To carry on later in a new session, open your workbook again, run "
        "all cells and use **Upload my earlier workbook**.",
    ]


# ---------------------------------------------------------------- collect


def _workshop_files(folder: Path) -> tuple[list[tuple[Path, dict[str, Any]]], list[str]]:
    """Workshop workbooks (and downloaded copies) in a folder; skipped files with reasons."""
    found, skipped = [], []
    for path in iter_workbooks(folder):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(raw, dict) and MARK in raw.get("metadata", {}):
                continue  # our own index/start/summary pages
            nb = load_notebook(path)
        except (OSError, ValueError, WorkbookError) as exc:
            skipped.append(f"{path}: {str(exc).split(': ', 1)[-1]}")
            continue
        if workbook_info(nb).get("template") != TEMPLATE:
            skipped.append(f"{path}: not a workshop workbook")
            continue
        found.append((path, nb))
    return found, skipped


def collect_records(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Answers of every participant as plain records (no pandas), newest value per prompt.

    A participant may appear several times (server workbook + downloaded copies, or a resumed
    session with a new workbook id): records are merged by (vignette, participant code).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    files, skipped = _workshop_files(folder)
    merged: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    prompts: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    for path, nb in files:
        info = workbook_info(nb)
        key = (str(info.get("vignette", "")), str(info.get("case_id", "")))
        index = prompt_index(nb)
        for pid, p in index.items():
            if pid not in prompts:
                prompts[pid] = p
                order.append(pid)
        is_download = "download" in nb["metadata"][META]
        answers = {pid: (a, "download" if is_download else "notebook")
                   for pid, a in notebook_answers(nb).items()}
        for pid, ev in jr.read_journal(journal_path(path)).answers().items():
            if pid not in answers or str(ev.get("t", "")) >= str(answers[pid][0].get("t", "")):
                answers[pid] = ({"v": ev.get("v"), "t": ev.get("t", "")}, "journal")
        slot = merged.setdefault(key, {})
        for pid, (a, src) in answers.items():
            if pid not in index or not is_answered(a.get("v")):
                continue
            old = slot.get(pid)
            if old is None or str(a.get("t", "")) >= old["t"]:
                slot[pid] = {"value": a["v"], "t": str(a.get("t", "")), "source": src,
                             "file": str(path.relative_to(folder))}
    rows = []
    for (vig, code), answers in sorted(merged.items()):
        for pid in order:
            if pid in answers:
                p = prompts[pid]
                rows.append({"participant": code, "vignette": vig, "prompt_id": pid,
                             "section": p["section"], "kind": p["kind"],
                             "label": p.get("label", pid), **answers[pid]})
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
        table.append(f"| {escape_md(p['section'])} | {escape_md(p.get('label', p['id']))} | "
                     f"{len(by_prompt.get(p['id'], []))} of {n} |")
    cells.append("## Responses per prompt\n\n" + "\n".join(table))
    section = None
    for p in rec["prompts"]:
        rows = by_prompt.get(p["id"], [])
        head = ""
        if p["section"] != section:
            section = p["section"]
            head = f"## Section: {escape_md(section)}\n\n"
        text, png = _prompt_summary(p, rows, show_codes)
        if png:
            attachments[len(cells)] = {f"{p['id']}.png": {"image/png": png}}
            text += f"\n\n![{escape_md(p['id'])}](attachment:{p['id']}.png)"
        cells.append(head + f"### {escape_md(p.get('label', p['id']))}\n\n" + text)
    meta = {"kind": "summary", "vignettes": vignettes, "participants": n,
            "show_codes": show_codes, "created": jr.now()}
    make_private_dir(out_path.parent)
    _write_markdown_nb(out_path, cells, meta, attachments)
    result: dict[str, Any] = {"notebook": out_path, "participants": n,
                              "skipped": rec["skipped"]}
    if html:
        result["html"] = _to_html(out_path)
    return result


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
    (ax.xaxis if horizontal else ax.yaxis).get_major_locator().set_params(integer=True)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _to_html(nb_path: Path) -> Path:
    import nbformat
    from nbconvert import HTMLExporter

    body, _res = HTMLExporter().from_notebook_node(nbformat.read(nb_path, as_version=4))
    out = nb_path.with_suffix(".html")
    atomic_write(out, body)
    return out


# ---------------------------------------------------------------- public hosts


def public_host(environ: dict[str, str] | None = None) -> bool:
    """True on a public Binder (BinderHub env vars) or when $SUPERVISION_KIT_PUBLIC_HOST=1."""
    env = os.environ if environ is None else environ
    forced = env.get(ENV_PUBLIC, "").strip().lower()
    if forced in ("1", "true", "yes"):
        return True
    if forced in ("0", "false", "no"):
        return False
    return any(env.get(k) for k in BINDER_ENV)


def banner_html() -> str:
    """The public-host banner, or '' when not on a public host."""
    if not public_host():
        return ""
    return ("<div class='sk-public' style='background:#fff3cd;border:2px solid #b58100;"
            "padding:8px 12px;font-weight:bold'>⚠️ Public server: "
            f"{html.escape(BANNER)}.</div>")


def check_public_open(path: Path) -> None:
    """On a public host refuse any workbook that is not a workshop workbook."""
    if not public_host():
        return
    info = workbook_info(load_notebook(path))
    if info.get("template") != TEMPLATE:
        raise WorkbookError(
            f"{path.name}: this is a public training server, so only workshop workbooks open "
            "here; keep supervision records on your organisation's own computer or hub")


# ---------------------------------------------------------------- download / resume


def download_copy(wb: Any) -> tuple[str, bytes]:
    """A finalized copy of the open workbook with every current answer: (file name, bytes).

    Flushes pending keystrokes first; the open .ipynb is never touched.
    """
    from .record import finalize

    wb.writer.flush()
    stamp = dt.datetime.now().strftime("%Y-%m-%d-%H%M")
    name = f"{wb.path.stem}-{stamp}.ipynb"
    with tempfile.TemporaryDirectory(prefix="sk-download-") as tmp:
        copy_path = Path(tmp) / wb.path.name
        shutil.copyfile(wb.path, copy_path)
        jp = journal_path(wb.path)
        if jp.exists():
            shutil.copyfile(jp, journal_path(copy_path))
        finalize(copy_path, force=True)
        nb = json.loads(copy_path.read_text(encoding="utf-8"))
    nb["metadata"][META]["download"] = {"t": jr.now(), "from": wb.path.name}
    return name, (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def restore_upload(wb: Any, data: bytes, name: str = "upload") -> int:
    """Restore answers from a downloaded copy into the open workbook's journal.

    Only a workshop workbook of the same participant and vignette is accepted, only prompts
    of this workbook are taken, and every value is validated before anything is written.
    Returns the number of answers restored.
    """
    if len(data) > MAX_UPLOAD:
        raise InputError(f"{name}: too large for a workbook ({len(data):,} bytes)")
    with tempfile.TemporaryDirectory(prefix="sk-upload-") as tmp:
        tmp_path = Path(tmp) / "upload.ipynb"
        tmp_path.write_bytes(data)
        try:
            nb = load_notebook(tmp_path)
        except WorkbookError as exc:
            raise WorkbookError(f"{name}: {str(exc).split(': ', 1)[-1]}") from None
    info = workbook_info(nb)
    if info.get("template") != TEMPLATE:
        raise WorkbookError(f"{name}: not a workshop workbook")
    for key, what in (("case_id", "participant"), ("vignette", "vignette")):
        if info.get(key) != wb.info.get(key):
            raise WorkbookError(f"{name}: belongs to {what} {info.get(key)!r}, but this "
                                f"workbook is {what} {wb.info.get(key)!r}")
    if wb.locked:
        raise WorkbookError(f"{wb.path.name} is locked; nothing restored")
    answers = {pid: a["v"] for pid, a in notebook_answers(nb).items()}
    clean = {pid: check_value(wb.prompts[pid], v) for pid, v in answers.items()
             if pid in wb.prompts and is_answered(v)}
    changed = {pid: v for pid, v in clean.items() if wb.values.get(pid) != v}
    wb.writer.flush()
    events = jr.append_events(journal_path(wb.path), [
        {"id": pid, "v": v, "src": "upload", "by": wb.prompts[pid].get("role", "worker")}
        for pid, v in changed.items()])
    for ev in events:
        wb.values[ev["id"]] = ev["v"]
        wb.times[ev["id"]] = ev["t"]
        _refresh(wb, ev["id"])
    return len(events)


def _refresh(wb: Any, pid: str) -> None:
    """Show a restored answer in its (already displayed) widget and mirror."""
    from .record import answer_output

    handle = wb.handles.get(pid)
    if handle is not None:
        handle.update(answer_output(wb.prompts[pid], wb.values[pid], wb.times[pid])["data"],
                      raw=True)
    field = wb.fields.get(pid)
    if field is None:
        return
    from .widgets import Field

    new = Field(wb.prompts[pid], wb.values[pid], disabled=wb.locked,
                on_change=lambda v, pid=pid: wb._changed(pid, v))
    field.box.children = new.box.children  # keep the displayed box, swap its contents
    field.editor, field.note = new.editor, new.note


def _link_html(name: str, data: bytes, folder: Path) -> str:
    """A download link: a data: URI for normal sizes, else a file saved in the folder."""
    if len(data) <= DATA_URI_LIMIT:
        b64 = base64.b64encode(data).decode("ascii")
        href = f"data:application/x-ipynb+json;base64,{b64}"
        return (f"<a download='{html.escape(name)}' href='{href}' style='font-weight:bold'>"
                f"⬇️ Save {html.escape(name)}</a> — keep this file; it holds all your answers.")
    target = make_private_dir(folder / "downloads") / name
    atomic_write(target, data)
    return (f"Saved as <code>downloads/{html.escape(name)}</code>: right-click it in the file "
            "browser on the left and choose <b>Download</b>.")


def download_panel(wb: Any) -> None:
    """Buttons at the end of a workshop workbook: download a finalized copy, upload to resume."""
    import ipywidgets as W
    from IPython.display import display

    button = W.Button(description="Download my workbook", icon="download",
                      button_style="primary", layout=W.Layout(width="auto"))
    link = W.HTML()
    upload = W.FileUpload(accept=".ipynb", multiple=False,
                          description="Upload my earlier workbook", layout=W.Layout(width="auto"))
    message = W.HTML()

    def on_download(_b: Any) -> None:
        try:
            name, data = download_copy(wb)
            link.value = _link_html(name, data, wb.path.parent)
        except Exception as exc:  # shown to the participant, never a traceback
            link.value = f"<span style='color:#b00020'>⚠️ {html.escape(str(exc))}</span>"

    def on_upload(change: dict[str, Any]) -> None:
        files = change.get("new") or ()
        if not files:
            return
        item = files[0]
        try:
            n = restore_upload(wb, bytes(item["content"]), str(item.get("name", "upload")))
            message.value = (f"✅ Restored {n} answer(s) from {html.escape(item.get('name', ''))}"
                             ". They are saved and shown above.")
        except Exception as exc:
            message.value = f"<span style='color:#b00020'>⚠️ {html.escape(str(exc))}</span>"
        finally:
            upload.value = ()

    button.on_click(on_download)
    upload.observe(on_upload, names="value")
    help_html = W.HTML("<i>Starting again on a new server? Open your own workbook, run all "
                       "cells, then upload the file you downloaded last time.</i>")
    display(W.VBox([W.HBox([button, link]), help_html, upload, message]))
