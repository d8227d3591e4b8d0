"""The kernel side: what runs inside a workbook's kernel (widgets, status, panels).

A workbook's setup cell calls ``open_workbook(workbook_file)``; the object it returns is the
``wb`` the other cells use. When the workbook may not open here (a public host only opens
workshop workbooks) or cannot be found, the setup cell shows ONE clear message and ``wb`` is
a ``Refused`` stand-in whose methods do nothing, so the later cells stay quiet.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from ..core.errors import InputError, KitError

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


class Refused:
    """Stands in for ``wb`` when the workbook did not open: every method shows nothing (an
    invisible marker, so the cell's code stays hidden too) and returns None."""

    locked = True

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._quiet

    @staticmethod
    def _quiet(*_args: Any, **_kwargs: Any) -> None:
        from IPython.display import display

        from .look import quiet_output

        display(quiet_output()["data"], raw=True)

    def __repr__(self) -> str:
        return f"<workbook not opened: {self.reason}>"


def refusal_html(reason: str) -> str:
    return ("<div role='alert' class='sk-out' style='border:2px solid #a4001c;padding:8px 12px;"
            "color:#1a1a1a;background:#fff'><i class='fa fa-ban' aria-hidden='true'></i> "
            f"<b>This workbook cannot be opened here.</b> {html.escape(reason)}</div>")


def open_workbook(workbook_file: str, *, show: bool = True):  # noqa: ANN201 - lazy import
    """Open the workbook this kernel runs (called by the workbook's setup cell)."""
    from ..workshop.public import check_public_open
    from .form import Workbook

    global _current
    if _current is not None:
        _current.close()
        _current = None
    try:
        path = _locate(workbook_file)
        check_public_open(path)  # public Binder: workshop workbooks only
    except KitError as exc:
        if not show:
            raise
        from IPython.display import display

        display({"text/html": refusal_html(str(exc)), "text/plain": str(exc)}, raw=True)
        return Refused(str(exc))
    _current = Workbook(path)
    if show:
        _current.show_status()
    return _current
