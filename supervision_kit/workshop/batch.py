"""``workshop generate``: render the workshop workbook ONCE (vignette on top, then warm-up, the
vignette's prompt sections and the debrief) and copy it per participant code, changing only the
code, file name and workbook id; plus a facilitator index and a participant start page."""

from __future__ import annotations

import copy
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from ..core import journal as jr
from ..core.errors import ConflictError, InputError
from ..core.notebook import write_notebook
from ..core.store import (
    check_date,
    check_id,
    make_private_dir,
)
from ..core.text import escape_md
from ..core.workbook import META
from .binder import BinderRepo
from .public import BANNER
from .vignettes import TEMPLATE, Vignette, load_vignette

MARK = "supervision_kit_workshop"  # metadata key of the index, start and summary notebooks
INDEX_NAME = "index.ipynb"
START_NAME = "START.ipynb"
SUMMARY_NAME = "summary.ipynb"
MAX_PARTICIPANTS = 500
_PLACEHOLDER = "SKPARTICIPANTCODEX"


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
    public: bool | None = None,
) -> dict[str, Any]:
    """One workbook per participant + a facilitator index + a participant start page.

    Renders once and copies. Refuses (before writing anything) if a workbook already exists.
    ``public``: the start page says the server is public (default: when generated on a public
    host, or with ``$SUPERVISION_KIT_PUBLIC_HOST=1`` as binder/postBuild sets).
    """
    import nbformat
    from nbformat.sign import NotebookNotary

    from ..generate.render import load_template, render_workbook, write_new
    from .binder import binder_repo
    from .public import public_host

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
    binder = binder_repo(out)
    public = public_host() if public is None else public
    write_page(out / INDEX_NAME, _index_cells(v, codes, date, out, binder) + notes_cells(v),
               manifest)
    write_page(out / START_NAME, _start_cells(v, codes, public),
               {**manifest, "kind": "start", "codes": [], "public": public})
    return {"out": out, "workbooks": paths, "index": out / INDEX_NAME,
            "start": out / START_NAME, "seconds": time.perf_counter() - t0}


def write_page(path: Path, cells: list[str], meta: dict[str, Any],
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
    write_notebook(path, nb)


def _index_cells(v: Vignette, codes: list[str], date: str, out: Path,
                 binder: BinderRepo) -> list[str]:
    links = {c: binder.link_for(out / workbook_name(c)) for c in codes}
    if all(links.values()):
        rows = "\n".join(f"| {escape_md(c)} | [{workbook_name(c)}]({workbook_name(c)}) | "
                         f"[launch]({links[c]}) |" for c in codes)
        table = f"| Code | Workbook | On Binder |\n|---|---|---|\n{rows}"
    else:
        rows = "\n".join(f"| {escape_md(c)} | [{workbook_name(c)}]({workbook_name(c)}) |"
                         for c in codes)
        table = f"| Code | Workbook |\n|---|---|\n{rows}"
    return [
        f"# Workshop: {escape_md(v.title)} (facilitator index)\n\n"
        f"**Date** {date} · **Participants** {len(codes)} · **Vignette** `{v.name}`\n\n"
        f"_Setting:_ {escape_md(v.setting)}\n\n"
        "Fictional training material: participants must not enter real client information.",
        "## Participants\n\nGive each participant one code; the code is the only thing that "
        f"links a workbook to a person, so keep that list to yourself.\n\n{table}",
        "## Launch links\n\n" + _launch_text(binder, out),
        "## After the session\n\nBinder deletes a server after about ten idle minutes. Ask "
        "participants to press **Download my workbook** at the end and send you the file. Put "
        "the files in one folder, then:\n\n"
        "```\nsupervision-kit workshop collect FOLDER --format csv > answers.csv\n"
        "supervision-kit workshop summary FOLDER --html\n```\n\n"
        "The summary is anonymised: it shows no participant codes unless you add `--show-codes`.",
    ]


def notes_cells(v: Vignette) -> list[str]:
    """The vignette's facilitator notes (teaching points, UK and US legal pointers, content
    notes): for the facilitator's index only, never in a participant's workbook."""
    heads = {"teaching_points": "Teaching points", "uk": "UK practice and law",
             "us": "US practice and law"}
    parts = []
    if v.content_notes:
        parts.append("### Content notes (shown to participants too)\n\n"
                     + "\n".join(f"- {escape_md(n)}" for n in v.content_notes))
    for key, items in v.facilitator_notes.items():
        title = heads.get(key, key.replace("_", " ").capitalize())
        parts.append(f"### {escape_md(title)}\n\n" + "\n".join(f"- {escape_md(x)}" for x in items))
    if not parts:
        return []
    return ["## Facilitator notes\n\nFor you, not for participants. Check legal pointers "
            "against current local guidance before relying on them.\n\n" + "\n\n".join(parts)]


def _launch_text(binder: BinderRepo, out: Path) -> str:
    """The index's launch links, or a clear note why there are none."""
    from .binder import ENV_REPO

    start = binder.link_for(out / START_NAME)
    if start:
        return (f"On Binder every participant gets their own server from `{binder.repo}` "
                f"(branch `{binder.ref}`). Share the start page:\n\n<{start}>\n\n"
                "The links open this folder as committed to that branch: commit and push it "
                "before the session.")
    if not binder.repo:
        return ("No Binder repository is set, so there are no launch links yet. Add "
                "`binder_repo = \"ORG/REPO\"` under `[tool.supervision-kit]` in the "
                f"repository's `pyproject.toml` (or set `${ENV_REPO}`), then generate again.")
    where = f"`{binder.root}`" if binder.root else "no repository"
    return (f"This folder is not inside the repository Binder builds ({where}), so a launch "
            "link cannot reach it. Generate the workshop inside the repository (for example "
            "`--out workbooks/workshop`, which `binder/postBuild` also makes), commit it and "
            "push it; the links then appear here.")


def _start_cells(v: Vignette, codes: list[str], public: bool) -> list[str]:
    links = " · ".join(f"[{escape_md(c)}]({workbook_name(c)})" for c in codes)
    server = (" This server is public and is deleted after about ten idle minutes."
              if public else "")
    leave = ("Press **Download my workbook** at the bottom of the workbook and keep the file"
             + (" before you go: this server does not keep it." if public else ".")
             + " To carry on later, open your workbook again, run all cells and use "
             "**Upload my earlier workbook**.")
    return [
        f"# Welcome to the workshop: {escape_md(v.title)}\n\n"
        f"> **{BANNER.capitalize()}.** Everything here is invented.{server}",
        "## 1. Open your workbook\n\nYour facilitator gives you a participant code (not your "
        f"name). Click it:\n\n{links}",
        "## 2. Start it\n\nIn the workbook choose **Run ▸ Run All Cells**. Your answers are "
        "saved as you type.",
        f"## 3. Before you leave\n\n{leave}",
    ]
