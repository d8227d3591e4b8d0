"""Download and resume: a finalized copy of an open workbook to keep, and the answers to
restore from such a copy on a new server (written by the caller through the append path).

Both are pure functions of files and bytes; the buttons that call them live in the kernel
layer (kernel/panels.py).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..core.data import MAX_NOTEBOOK
from ..core.errors import InputError, WorkbookError
from ..core.journal import now
from ..core.prompts import check_value, is_answered
from ..core.store import journal_path
from ..core.workbook import META, Record, open_record, parse_notebook, record_from_notebook
from ..record.finalize import embed_answers, stamp
from ..signoff.embed import embed_signoff
from .vignettes import TEMPLATE

MAX_UPLOAD = 20 * 1024 * 1024
DATA_URI_LIMIT = 1_500_000  # bytes; larger downloads are offered as a file in the folder


def download_copy(path: Path) -> tuple[str, dict[str, Any]]:
    """A finalized copy of a workbook with every saved answer: (file name, notebook).

    Made in memory by the finalize steps; the open .ipynb and its journal are never touched.
    """
    with tempfile.TemporaryDirectory(prefix="sk-download-") as tmp:
        copy_path = Path(tmp) / path.name
        shutil.copyfile(path, copy_path, follow_symlinks=False)
        jp = journal_path(path)
        if jp.is_file() and not jp.is_symlink():
            shutil.copyfile(jp, journal_path(copy_path), follow_symlinks=False)
        rec = open_record(copy_path)
        nb = stamp(embed_signoff(rec, embed_answers(rec)))
    nb["metadata"][META]["download"] = {"t": now(), "from": path.name}
    name = f"{path.stem}-{dt.datetime.now().strftime('%Y-%m-%d-%H%M')}.ipynb"
    return name, nb


def answers_to_restore(target: Record, data: bytes, name: str = "upload") -> dict[str, Any]:
    """The answers of an uploaded copy that differ from ``target``'s, validated against
    ``target``'s own prompt set. Only a workshop workbook of the same participant and vignette
    is accepted; a locked target accepts nothing."""
    if len(data) > min(MAX_UPLOAD, MAX_NOTEBOOK):
        raise InputError(f"{name}: too large for a workbook ({len(data):,} bytes)")
    try:
        nb = parse_notebook(data, name)
    except WorkbookError as exc:
        raise WorkbookError(f"{name}: {str(exc).split(': ', 1)[-1]}") from exc
    rec = record_from_notebook(nb, name)
    info = rec.info
    if info.get("template") != TEMPLATE:
        raise WorkbookError(f"{name}: not a workshop workbook")
    for key, what in (("case_id", "participant"), ("vignette", "vignette")):
        if info.get(key) != target.info.get(key):
            raise WorkbookError(f"{name}: belongs to {what} {info.get(key)!r}, but this "
                                f"workbook is {what} {target.info.get(key)!r}")
    if target.locked:
        raise WorkbookError(f"{target.path.name} is locked; nothing restored")
    current = target.answers
    clean = {pid: check_value(target.prompts[pid], v) for pid, v in rec.answers.items()
             if pid in target.prompts and is_answered(v)}
    return {pid: v for pid, v in clean.items() if current.get(pid) != v}
