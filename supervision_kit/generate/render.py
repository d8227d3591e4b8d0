"""Generate a workbook: papermill parameterises a template notebook, its prompt set becomes
one hidden code cell per section (showing its questions until it runs), and the result is
written into the store.

``render_workbook`` is a pure transform (template nb -> workbook nb) so batch generation
(workshops) renders once and copies; ``new_workbook`` adds paths, carry-forward and I/O.
"""

from __future__ import annotations

import copy
import html
import json
import os
import re
import string
import unicodedata
import uuid
from pathlib import Path
from typing import Any

from ..core.errors import ConflictError, InputError, KitError
from ..core.formats import FORMAT
from ..core.journal import now
from ..core.notebook import write_notebook
from ..core.prompts import PromptSet, load_prompt_set, templates_dir
from ..core.store import check_date, check_id, journal_path, open_private, store_root
from ..core.text import check_name, escape_md
from ..core.workbook import META
from .expand import expand_cases, has_case_blocks
from .question import QUESTION_KEY, question_markdown, question_output, titles_of

FOCUS_WORDS = ("reflection", "ethics", "skills", "planning")
# record kinds about the worker rather than a case: they live in <store>/<kind>s/
WORKER_KINDS = ("agreement", "learning_agreement", "evaluation")
# Parameters the kernel needs; everything else (names) stays in metadata only.
KERNEL_PARAMS = ("workbook_file", "case_id", "session_date", "template", "template_version")


def load_template(name: str, templates: str | None = None) -> tuple[dict[str, Any], PromptSet]:
    """The template notebook (as a dict) and its validated prompt set."""
    check_id(name, "template name")
    folder = templates_dir(templates)
    nb_path = folder / f"{name}.ipynb"
    if not nb_path.is_file():
        known = sorted(p.stem for p in folder.glob("*.ipynb"))
        raise InputError(f"unknown template {name!r}; available: {', '.join(known)}")
    try:
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{nb_path}: template notebook cannot be read: {exc}") from None
    return nb, load_prompt_set(name, templates)


def workbook_folder(root: Path, kind: str, cases: list[str], per_case: bool) -> Path:
    """Where a new workbook lives (docs/architecture.md, "Store layout"): one case, and a
    template made for one case -> ``<store>/<case>/``; otherwise (a session about several or
    no cases, an agreement, an evaluation) -> ``<store>/<kind>s/``."""
    if per_case:
        return root / cases[0]
    return root / f"{check_id(kind, 'record kind')}s"


def workbook_name(date: str, template: str, cases: list[str]) -> str:
    """``<date>-<template>[-<case>…].ipynb``: a session names its (pseudonymous) cases, so two
    sessions on one day about different cases never collide; the same ones are refused."""
    name = f"{date}-{check_id(template, 'template name')}"
    shown = cases[:3] + ([f"and-{len(cases) - 3}-more"] if len(cases) > 3 else [])
    return "-".join([name, *shown]) + ".ipynb"


def initials(name: str) -> str:
    """'Ana Bello-Díaz' -> 'abd': a short tag for file names (ASCII letters and digits)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return "".join(w[0] for w in re.split(r"[^a-z0-9]+", plain) if w)[:6] or "w"


def free_path(path: Path, worker: str, *, tagged: bool) -> Path:
    """``path`` if it is free. A record about the worker rather than a case (an agreement, an
    evaluation, a session without cases) whose name is taken by ANOTHER worker's record (a
    practice educator with two students on one day) gets the worker's initials, then a number
    (``…-midpoint_evaluation-ab.ipynb``, ``…-ab-2.ipynb``). The same worker's record, or one
    that cannot be read, is never overwritten."""
    if not path.exists():
        return path
    if tagged and _worker_of(path) not in (worker, None):
        tag = initials(worker)
        for n in range(1, 10):
            candidate = path.with_name(f"{path.stem}-{tag}{'' if n == 1 else f'-{n}'}.ipynb")
            if not candidate.exists():
                return candidate
            if _worker_of(candidate) in (worker, None):
                path = candidate
                break
    raise ConflictError(f"{path} already exists; refusing to overwrite it", path=path)


def _worker_of(path: Path) -> str | None:
    """The worker named in an existing workbook (None when it cannot be read)."""
    from ..core.workbook import load_notebook, workbook_info

    try:
        return str(workbook_info(load_notebook(path)).get("worker", ""))
    except (KitError, OSError, KeyError, TypeError):
        return None


def new_workbook(
    *,
    worker: str,
    supervisor: str,
    case_id: str | None = None,
    cases: list[str] | None = None,
    date: str | None = None,
    focus: str = "",
    template: str = "session",
    store: str | os.PathLike[str] | None = None,
    templates: str | None = None,
    params: dict[str, Any] | None = None,
    accounts: dict[str, str] | None = None,
) -> Path:
    """Create a workbook in the store and return its path.

    ``accounts`` (``{"worker_user": …, "supervisor_user": …}``, see signoff.identity) names
    the JupyterHub accounts allowed to sign for each role; it is kept in the metadata.

    A session template with case blocks takes zero or more ``cases`` (each gets its own block)
    and lives in ``<store>/sessions/``; a template made for one case needs exactly one and
    lives in ``<store>/<case>/``. Refuses to overwrite; validates everything before anything
    touches the disk.
    """
    cases = [*([case_id] if case_id is not None else []), *(cases or [])]
    cases = [check_id(c) for c in dict.fromkeys(cases)]
    date = check_date(date)
    worker, supervisor = _name(worker, "worker"), _name(supervisor, "supervisor")
    focus = _name(focus, "focus", required=False)
    root = store_root(store)
    nb_tpl, prompt_set = load_template(template, templates)
    from .evidence import placement_step  # framework, per-competency sections, evidence

    prompt_set, params = placement_step(prompt_set, store=root, worker=worker, date=date,
                                        params=params or {}, templates=templates)
    blocks = has_case_blocks(prompt_set.sections)
    per_case = not blocks and prompt_set.kind not in WORKER_KINDS
    if per_case and len(cases) != 1:
        raise InputError(f"template {prompt_set.name!r} is about one case: give exactly one "
                         f"--case (got {len(cases)})")
    folder = workbook_folder(root, prompt_set.kind, cases, per_case)
    path = free_path(folder / workbook_name(date, template, [] if per_case else cases),
                     worker, tagged=not per_case and not cases)
    from .carry import carry_forward
    from .notes import agreement_notes

    carry = None
    if prompt_set.carries_forward:
        folders = [root / "sessions", *(root / c for c in cases)]
        carry = carry_forward(folders, date, cases=cases, worker=worker if blocks else None)
    notes = list((carry or {}).get("notes", []))
    if prompt_set.kind == "session":
        notes += agreement_notes(root, worker, supervisor, date)
    info = {
        "case_id": cases[0] if len(cases) == 1 else "",
        "cases": cases,
        "session_date": date,
        "worker": worker,
        "supervisor": supervisor,
        "focus": focus,
        **(accounts or {}),
    }
    nb = render_workbook(nb_tpl, prompt_set, info, params or {}, carry=carry, notes=notes,
                         workbook_file=path.name)
    write_new(path, nb)
    return path


def write_new(path: Path, nb: dict[str, Any], *, notary: Any = None,
              validate: bool = True) -> None:
    """Write a workbook that must not exist yet, through the one notebook writer, with an empty
    journal. Refuses when a journal (or lock) of an earlier workbook at this path is still
    there: a new workbook never adopts someone's old answers or signatures."""
    journal = journal_path(path)
    if os.path.lexists(journal):
        raise ConflictError(
            f"{journal} already exists (the journal of an earlier workbook at this path); "
            "move it away before making a new workbook here", path=journal)
    write_notebook(path, nb, new=True, notary=notary, validate=validate)
    fd = open_private(journal_path(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, "journal")
    os.close(fd)


def _name(value: Any, what: str, required: bool = True) -> str:
    if required and not str(value or "").strip():
        raise InputError(f"--{what} is required (a name or initials)")
    return check_name(value, what, required=required)


def render_workbook(
    template_nb: dict[str, Any],
    prompt_set: PromptSet,
    info: dict[str, Any],
    params: dict[str, Any],
    *,
    carry: dict[str, Any] | None = None,
    notes: list[str] | None = None,
    workbook_file: str,
    extra_sections: list[dict[str, Any]] | None = None,
    header_extra: str = "",
) -> dict[str, Any]:
    """Template notebook -> workbook notebook (pure; no I/O)."""
    import nbformat
    from papermill.parameterize import parameterize_notebook

    parameters = {**prompt_set.parameters, **params}
    unknown = set(params) - set(prompt_set.parameters)
    if unknown:
        known = ", ".join(prompt_set.parameters) or "none"
        raise InputError(f"unknown parameter {sorted(unknown)[0]!r} for template "
                         f"{prompt_set.name!r}; known: {known}")
    parameters |= {
        **info,
        "template": prompt_set.name,
        "template_version": prompt_set.version,
        "workbook_file": workbook_file,
    }
    nb = nbformat.from_dict(copy.deepcopy(template_nb))
    nb.metadata.setdefault("papermill", {})
    nb = parameterize_notebook(nb, parameters, report_mode=True)
    sections = _resolve_sections(prompt_set, parameters, info.get("focus", ""))
    if extra_sections:
        sections = extra_sections + sections
    cases = list(info.get("cases") or ([info["case_id"]] if info.get("case_id") else []))
    by_case = (carry or {}).get("cases", {})
    if has_case_blocks(sections):
        sections = expand_cases(sections, cases, before_case=by_case)
    else:  # a template made for one case: its review goes first
        sections = [s for c in cases for s in by_case.get(c, [])] + sections
    if carry:
        sections = [*carry.get("sections", []), *sections]
    focus_title = next((s["title"] for s in sections if s.get("_focus")), "")
    cells = []
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags:
            cell.source = _scrubbed(parameters)
        if "header" in tags:
            cell.source = _header(cell.source, parameters, focus_title, notes or [],
                                  header_extra)
        if "prompts" in tags:
            cells.extend(_section_cells(sections))
            continue
        if cell.cell_type == "code":
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
        cells.append(cell)
    nb.cells = cells
    nb.metadata.papermill["parameters"] = {"see": f"metadata.{META}.workbook"}
    nb.metadata[META] = {
        "format": FORMAT,
        "workbook": {
            "id": str(uuid.uuid4()),
            **info,
            "template": prompt_set.name,
            "template_version": prompt_set.version,
            "template_title": prompt_set.title,
            "parameters": {k: v for k, v in parameters.items() if k in prompt_set.parameters},
            "created": now(),
        },
        "prompt_set": {
            **prompt_set.to_dict(),
            "sections": [{k: v for k, v in s.items() if not k.startswith("_")} for s in sections],
        },
    }
    return nbformat.from_dict(json.loads(json.dumps(nb)))


def _resolve_sections(
    prompt_set: PromptSet, parameters: dict[str, Any], focus: str
) -> list[dict[str, Any]]:
    """Sections whose ``when`` matches, with the focused ones first (nothing is hidden)."""
    keep = [
        dict(s) for s in prompt_set.sections
        if all(str(parameters.get(k)) == str(v) for k, v in s.get("when", {}).items())
    ]
    word = focus.strip().lower()
    for s in keep:
        s["_focus"] = bool(word) and (word == s["id"] or word in s.get("focus", []))
    if has_case_blocks(keep):  # focus sorts within a case block (expand_cases), not across
        return keep
    return sorted(keep, key=lambda s: not s["_focus"])


def _scrubbed(parameters: dict[str, Any]) -> str:
    lines = [
        "# Injected by papermill, then scrubbed: names and other details are kept only in this",
        f"# workbook's metadata ({META}.workbook), not in code or outputs.",
    ]
    lines += [f"{k} = {json.dumps(parameters[k])}" for k in KERNEL_PARAMS if k in parameters]
    return "\n".join(lines)


def _header(
    source: str, parameters: dict[str, Any], focus_title: str, notes: list[str], extra: str,
) -> str:
    values = {k: escape_md(v) for k, v in parameters.items() if isinstance(v, str | int | float)}
    values["cases"] = escape_md(", ".join(parameters.get("cases") or []) or "none today")
    focus = parameters.get("focus", "")
    if focus_title:
        values["focus_line"] = f"**Today's focus:** {escape_md(focus_title)} (shown first)"
    elif focus:
        values["focus_line"] = f"**Today's focus:** {escape_md(focus)}"
    else:
        values["focus_line"] = ""
    text = string.Template(source).safe_substitute(values)
    if notes:
        text += "\n\n" + "\n".join(f"> **Note:** {escape_md(n)}" for n in notes)
    return text + (f"\n\n{extra}" if extra else "")


def _section_cells(sections: list[dict[str, Any]]) -> list[Any]:
    """Section links (long workbooks), then per section a heading cell and ONE hidden code cell
    for all its prompts (``wb.ask(id, id, ...)``: Run All's time in JupyterLab grows with the
    number of cells and outputs more than with the widgets in them). Before it runs, the cell
    shows each question (a markdown output), so the workbook reads as a form; when it runs, the
    kernel replaces those with the widgets and the answer mirrors."""
    import nbformat.v4 as v4

    titles = titles_of([p for s in sections for p in s["prompts"]])
    cells = []
    if len(sections) >= SECTION_LINKS_FROM:
        cells.append(v4.new_markdown_cell(_section_links(sections)))
    for s in sections:
        focus = "\n\n_This is today's focus (shown first)._" if s.get("_focus") else ""
        intro = s.get("intro", "").strip()
        cells.append(v4.new_markdown_cell(f"## {s['title']}{focus}\n\n{intro}".strip()))
        ids = [p["id"] for p in s["prompts"]]
        if not ids:
            continue
        code = v4.new_code_cell("wb.ask(" + ", ".join(f'"{pid}"' for pid in ids) + ")")
        code.metadata[META] = {"prompts": ids, QUESTION_KEY: True}
        code.metadata["jupyter"] = {"source_hidden": True}
        for p in s["prompts"]:
            out = question_output(p, titles)
            code.outputs.append(v4.new_output("display_data", data=out["data"],
                                              metadata=out["metadata"]))
        cells.append(code)
    return cells


SECTION_LINKS_FROM = 3  # sections: from this many, the workbook starts with links to each


def section_anchor(title: str) -> str:
    """The id JupyterLab (and nbconvert/Voila) give a markdown heading: spaces become '-'."""
    return str(title).replace(" ", "-")


def _section_links(sections: list[dict[str, Any]]) -> str:
    links = " · ".join(
        f'<a href="#{html.escape(section_anchor(s["title"]), quote=True)}">'
        f'{html.escape(str(s["title"]))}</a>' for s in sections)
    return f"**Sections:** {links}"


def _prompt_markdown(p: dict[str, Any], titles: dict[str, str]) -> str:
    return question_markdown(p, titles)


def template_names(templates: str | None = None) -> list[str]:
    folder = templates_dir(templates)
    return sorted(p.stem for p in folder.glob("*.ipynb") if (folder / "prompts" /
                                                              f"{p.stem}.yaml").is_file())
