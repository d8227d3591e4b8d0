"""The kernel side: what runs inside a workbook's kernel (widgets, status, panels).

A workbook's setup cell calls ``open_workbook(workbook_file)``; the object it returns is the
``wb`` the other cells use.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import InputError

_current = None


def _locate(workbook_file: str) -> Path:
    here = Path.cwd() / workbook_file
    if here.is_file():
        return here
    session = os.environ.get("JPY_SESSION_NAME", "")
    if session.endswith(".ipynb") and Path(session).is_file():
        return Path(session)
    raise InputError(f"cannot find {workbook_file} in {Path.cwd()}: open the workbook from its "
                     "own folder")


def open_workbook(workbook_file: str, *, show: bool = True):  # noqa: ANN201 - lazy import
    """Open the workbook this kernel runs (called by the workbook's setup cell)."""
    from ..workshop.public import check_public_open
    from .form import Workbook

    global _current
    if _current is not None:
        _current.close()
    path = _locate(workbook_file)
    check_public_open(path)  # public Binder: workshop workbooks only
    _current = Workbook(path)
    if show:
        _current.show_status()
    return _current
