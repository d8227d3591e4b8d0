"""``supervision-kit progress``: generate a case's progress-review workbook and execute it.

The workbook comes from the ``progress`` template (charts + reflective prompts captured like
any workbook); papermill runs it so the charts are saved in its outputs. ``html`` also
writes a static report (nbconvert, code hidden, widgets left out) beside it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from ..core.errors import ConflictError, InputError, KitError
from ..core.notebook import write_notebook
from ..core.store import atomic_write, check_id, store_root, workbook_path

TEMPLATE = "progress"
TIMEOUT = 300  # seconds per cell


def make_progress(
    case: str,
    *,
    store: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    html: bool = False,
    date: str | None = None,
    templates: str | None = None,
) -> dict[str, Path | None]:
    """Create (or refresh) and execute the progress workbook; ``{"notebook", "html"}`` paths.

    Worker and supervisor names come from the case's latest session workbook. An existing
    progress workbook for the same day is re-executed: its answers live in its journal and
    are kept.
    """
    from ..table.index import load_store

    check_id(case)
    root = store_root(store)
    df = load_store(root, case=case, progress=False)
    if df.empty:
        raise InputError(f"no readable workbooks for case {case!r} in {root}")
    date = date or dt.date.today().isoformat()
    path = Path(out) if out else workbook_path(root, case, date, TEMPLATE)
    if path.suffix != ".ipynb":
        raise InputError(f"--out must end in .ipynb, got {path}")
    if path.exists():
        _check_ours(path)
        from ..core.markers import open_in_kernel

        if open_in_kernel(path):
            raise ConflictError(f"{path.name} is open in a running kernel; close it first "
                                "(File > Close and Shut Down Notebook)")
    else:
        latest = df.sort_values("date").iloc[-1]
        info = {"case_id": case, "session_date": date, "worker": str(latest["worker"] or ""),
                "supervisor": str(latest["supervisor"] or ""), "focus": ""}
        if out:  # outside the store: remember where the data is
            info["store"] = str(root.resolve())
        _create(path, info, templates)
    execute(path)
    report = write_html(path) if html else None
    return {"notebook": path, "html": report}


def _check_ours(path: Path) -> None:
    from ..core.workbook import load_notebook, workbook_info

    if workbook_info(load_notebook(path)).get("template") != TEMPLATE:
        raise ConflictError(f"{path} exists and is not a progress workbook; refusing to "
                            "overwrite it")


def _create(path: Path, info: dict[str, Any], templates: str | None) -> None:
    from ..generate.render import load_template, render_workbook, write_new

    nb_tpl, prompt_set = load_template(TEMPLATE, templates)
    nb = render_workbook(nb_tpl, prompt_set, info, {}, workbook_file=path.name)
    write_new(path, nb)


def execute(path: Path, timeout: int = TIMEOUT) -> None:
    """Run every cell with papermill in the workbook's folder, in memory, then write the
    executed notebook once through the one notebook writer."""
    import papermill as pm

    from ..core.markers import clear_mark, kernel_marker, open_in_kernel
    from ..core.workbook import WIDGET_MIME

    try:
        nb = pm.execute_notebook(
            str(path), None, cwd=str(path.parent), kernel_name="python3",
            progress_bar=False, request_save_on_cell_execute=False,
            execution_timeout=timeout, shutdown_kernel="immediate",
        )
    except pm.PapermillExecutionError as exc:
        raise KitError(f"{path.name}: cell {exc.cell_index} failed: {exc.ename}: "
                       f"{exc.evalue}", path=path) from exc
    finally:
        if open_in_kernel(path) is None:  # the kernel was stopped before its exit hook ran
            clear_mark(path)
            if kernel_marker(path).is_file() and not kernel_marker(path).is_symlink():
                kernel_marker(path).unlink(missing_ok=True)
    # Widgets (the sign-off panel) mean nothing outside a live kernel, and their saved state
    # and text reprs would carry the names typed into them: keep charts and text, drop them.
    nb["metadata"].pop("widgets", None)
    for cell in nb["cells"]:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [o for o in cell.get("outputs", [])
                               if WIDGET_MIME not in (o.get("data") or {})]
    # papermill records absolute paths (user names, folders): keep only the file name
    pm_meta = nb["metadata"].get("papermill", {})
    for key in ("input_path", "output_path"):
        if key in pm_meta:
            pm_meta[key] = path.name
    write_notebook(path, nb, validate=False)


def write_html(path: Path) -> Path:
    """A static HTML report beside the workbook: outputs only, widgets dropped, one
    self-contained file (no script or style from the network)."""
    import nbformat

    from ..core.workbook import WIDGET_MIME
    from ..export.html import offline_html

    nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", [])
                            if WIDGET_MIME not in o.get("data", {})]
    nb.metadata.pop("widgets", None)
    body = offline_html(nb, exclude_input=True, exclude_input_prompt=True,
                        exclude_output_prompt=True)  # self-contained: opens offline
    target = path.with_suffix(".html")
    atomic_write(target, body)
    os.chmod(target, 0o600)
    return target


def summary(path: Path) -> dict[str, Any]:
    """Counts of images and answer mirrors in an executed progress workbook (for checks)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    outs = [o for c in nb["cells"] for o in c.get("outputs", [])]
    return {"images": sum("image/png" in o.get("data", {}) for o in outs),
            "errors": sum(o.get("output_type") == "error" for o in outs)}
