"""Read answers from a workbook (journal + notebook outputs), fill headlessly, and finalize.

Read paths use plain ``json`` (no nbformat): ``responses`` must start fast and the finalized
.ipynb must be readable without this package. An answer cell is a code cell whose metadata
holds ``supervision_kit.prompt``; its output carries ``ANSWER_MIME`` plus markdown.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from pathlib import Path
from typing import Any

from . import journal as jr
from .errors import ConflictError, InputError, LockedError, WorkbookError
from .prompts import check_value, is_answered
from .store import atomic_write, file_lock, journal_path

ANSWER_MIME = "application/vnd.supervision-kit.answer+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
META = "supervision_kit"


# ---------------------------------------------------------------- loading


def load_notebook(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The workbook as a JSON dict; a clear WorkbookError for anything that is not ours."""
    path = Path(path)
    if path.is_symlink():
        raise WorkbookError(f"{path}: is a symbolic link; give the workbook file itself")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise WorkbookError(f"{path}: no such workbook") from None
    except IsADirectoryError:
        raise WorkbookError(f"{path}: is a folder, not a workbook") from None
    except OSError as exc:
        raise WorkbookError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        nb = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise WorkbookError(f"{path}: not a notebook (not UTF-8 text)") from None
    except ValueError as exc:
        raise WorkbookError(f"{path}: not a notebook (invalid or truncated JSON: {exc})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise WorkbookError(f"{path}: not a Jupyter notebook (no cell list)")
    meta = nb.get("metadata", {}).get(META)
    if not isinstance(meta, dict) or not isinstance(meta.get("prompt_set"), dict):
        raise WorkbookError(f"{path}: not a supervision-kit workbook (no {META} metadata)")
    return nb


def workbook_info(nb: dict[str, Any]) -> dict[str, Any]:
    return dict(nb["metadata"][META].get("workbook", {}))


def prompt_index(nb: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Prompt id -> prompt definition (with ``section``), in workbook order."""
    sections = nb["metadata"][META]["prompt_set"].get("sections", [])
    return {p["id"]: dict(p, section=s["id"]) for s in sections for p in s.get("prompts", [])}


def list_prompts(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The prompts of a workbook: id, kind, section, role, label."""
    nb = load_notebook(path)
    return [
        {k: p.get(k) for k in ("id", "kind", "section", "role", "label")}
        | {"role": p.get("role", "worker")}
        for p in prompt_index(nb).values()
    ]


def answer_cells(nb: dict[str, Any]) -> list[tuple[int, str]]:
    return [
        (i, c["metadata"][META]["prompt"])
        for i, c in enumerate(nb["cells"])
        if c.get("cell_type") == "code" and isinstance(c.get("metadata", {}).get(META), dict)
        and "prompt" in c["metadata"][META]
    ]


def notebook_answers(nb: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Answers mirrored into the notebook's outputs: id -> {"v", "t"}."""
    found: dict[str, dict[str, Any]] = {}
    for i, _pid in answer_cells(nb):
        for out in nb["cells"][i].get("outputs", []):
            data = out.get("data", {}).get(ANSWER_MIME)
            if isinstance(data, dict) and isinstance(data.get("id"), str) \
                    and data.get("value") is not None:
                found[data["id"]] = {"v": data["value"], "t": data.get("t", "")}
    return found


def read_answers(path: str | os.PathLike[str]) -> dict[str, Any]:
    """``{"workbook": {...}, "answers": {prompt_id: value}}`` merging journal and notebook.

    The newest value wins, by timestamp. Unknown ids (e.g. from a newer template) are kept.
    """
    path = Path(path)
    nb = load_notebook(path)
    merged = _merged(path, nb)
    info = workbook_info(nb) | {"path": str(path)}
    prompts = prompt_index(nb)
    ordered = {pid: merged[pid]["v"] for pid in prompts if pid in merged}
    ordered |= {pid: ev["v"] for pid, ev in merged.items() if pid not in prompts}
    return {"workbook": info, "answers": ordered}


def _merged(path: Path, nb: dict[str, Any]) -> dict[str, dict[str, Any]]:
    merged = notebook_answers(nb)
    for pid, ev in jr.read_journal(journal_path(path)).answers().items():
        if pid not in merged or str(ev.get("t", "")) >= str(merged[pid].get("t", "")):
            merged[pid] = {"v": ev.get("v"), "t": ev.get("t", "")}
    return merged


# ---------------------------------------------------------------- writing


def fill(
    path: str | os.PathLike[str], responses: dict[str, Any], role: str | None = None
) -> list[dict[str, Any]]:
    """Validate every response, then append them all to the journal (all or nothing)."""
    path = Path(path)
    nb = load_notebook(path)
    if not isinstance(responses, dict):
        raise InputError("responses must be a JSON object {prompt_id: value}")
    prompts = prompt_index(nb)
    clean = {}
    for pid, value in responses.items():
        if pid not in prompts:
            raise InputError(f"unknown prompt id {pid!r} in {path.name}")
        clean[pid] = check_value(prompts[pid], value)
    events = [
        {"id": pid, "v": v, "by": role or prompts[pid].get("role", "worker"), "src": "fill"}
        for pid, v in clean.items()
    ]
    check_unlocked(path, nb)  # cheap early error; checked again under the lock
    with workbook_lock(path):
        check_unlocked(path, nb)
        return jr.append_events(journal_path(path), events, lock=False)


def workbook_lock(path: Path) -> Any:
    """The lock that fill, finalize, sign and addenda take: the workbook's journal."""
    return file_lock(journal_path(path))


def check_unlocked(path: Path, nb: dict[str, Any]) -> None:
    """Raise LockedError when both roles have signed (hook used by signoff)."""
    from .signoff import lock_state

    if lock_state(path, nb)["locked"]:
        raise LockedError(f"{path.name} is signed by worker and supervisor and locked; "
                          "add an addendum instead")


def kernel_marker(path: Path) -> Path:
    """File a running kernel keeps beside a workbook it has open."""
    return path.with_name(f".{path.name}.kernel.json")


def open_in_kernel(path: Path) -> dict[str, Any] | None:
    """The marker of a live kernel that has this workbook open, if any."""
    marker = kernel_marker(path)
    try:
        info = json.loads(marker.read_text())
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if info.get("host") != socket.gethostname():
        return info  # another machine: cannot check, assume open
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return info


def finalize(path: str | os.PathLike[str], *, force: bool = False) -> dict[str, Any]:
    """Write every answer into the .ipynb outputs so the file alone is the complete record.

    Refuses while a kernel has the workbook open (the browser would overwrite the file).
    The journal is kept: it stays the audit trail.
    """
    path = Path(path)
    load_notebook(path)  # a clear error for a bad file before anything is created
    live = open_in_kernel(path)
    if live and not force:
        raise ConflictError(
            f"{path.name} is open in a running kernel (pid {live.get('pid')}); close it "
            "(File > Close and Shut Down Notebook) or use --force"
        )
    with workbook_lock(path):
        nb = load_notebook(path)
        merged = _merged(path, nb)
        prompts = prompt_index(nb)
        for i, pid in answer_cells(nb):
            if pid not in prompts:
                continue
            ans = merged.get(pid, {"v": None, "t": ""})
            nb["cells"][i]["outputs"] = [answer_output(prompts[pid], ans["v"], ans["t"])]
            nb["cells"][i]["execution_count"] = None
        nb["metadata"][META]["finalized"] = jr.now()
        from .signoff import embed

        embed(path, nb)  # signatures + addenda into metadata and a shown cell
        _sign(nb)
        atomic_write(path, json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return {"path": str(path), "answers": sum(is_answered(a["v"]) for a in merged.values())}


def _sign(nb: dict[str, Any]) -> None:
    """Mark the notebook trusted for this user, so JupyterLab renders its outputs."""
    with contextlib.suppress(Exception):  # trust is a convenience, never a reason to fail
        import nbformat
        from nbformat.sign import NotebookNotary

        NotebookNotary().sign(nbformat.from_dict(nb))


# ---------------------------------------------------------------- the output mirror


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
            "text/plain": f"{prompt.get('label', prompt['id'])}: {_plain(value)}",
        },
    }


_MD_SPECIAL = set("\\`*_{}[]()#+-.!|~>")


def escape_md(text: str) -> str:
    """Text that markdown shows literally: HTML entities and backslash-escaped punctuation."""
    out = []
    for ch in str(text):
        if ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch in _MD_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _quote(text: str) -> str:
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
        for row in value:
            cells = [
                escape_md(_plain(row.get(c["id"]))).replace("\n", "<br>") or " " for c in cols
            ]
            rows.append("| " + " | ".join(cells) + " |")
        return head + "\n".join(rows)
    if kind == "scale":
        anchor = prompt.get("anchors", {}).get(str(value), "")
        return head + _quote(f"{value} — {anchor}" if anchor else str(value))
    if kind == "multi":
        return head + "\n".join(f"- {escape_md(v)}" for v in value)
    return head + _quote(_plain(value))


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return json.dumps(value, ensure_ascii=False)
        return "; ".join(map(str, value))
    return str(value)
