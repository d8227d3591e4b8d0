"""The workbook as a form inside the kernel: ``wb`` in every workbook's cells.

Each ``wb.ask(id)`` cell shows one input widget and, below it, a display handle that mirrors
the saved answer (custom MIME + markdown), so a normally saved notebook holds the answers too.
Changes go to the ``Session`` (kernel/session.py), which writes them through the core's one
append path; the mirror updates when the write is on disk. When a write finds the record
locked (both signed elsewhere), every widget turns read-only and the status line says who
locked it and when. The kernel never writes the open .ipynb.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as W
from IPython.display import display

from ..core.errors import InputError
from ..core.mirror import answer_output
from ..core.state import RecordState
from ..core.store import journal_path
from .fields import Field, full
from .session import Session

# Long option labels (behaviour-anchored scale levels) wrap instead of overlapping.
STYLE = """<style>
.sk-wrap .widget-radio-box label, .sk-wrap .jupyter-widget-radio-box label {
  height: auto; line-height: 1.35; padding: 3px 0; white-space: normal; display: flex;
  flex-direction: row-reverse; justify-content: flex-end; align-items: flex-start; gap: 6px; }
.sk-wrap .widget-radio-box input, .sk-wrap .jupyter-widget-radio-box input {
  height: 1.35em; line-height: 1.35em; float: none; flex-shrink: 0; margin: 0; }
.sk-status { padding: 4px 0; }
.sk-prompt textarea, .sk-prompt input[type="text"] { font-family: var(--jp-ui-font-family); }
</style>"""


def app_mode() -> bool:
    """Running under Voila (app mode): the page is never saved as a notebook."""
    return os.environ.get("VOILA_BASE_URL") is not None


class Workbook:
    """The kernel side of one open workbook: widgets over a ``Session``."""

    def __init__(self, path: Path) -> None:
        self.session = Session(path)
        self.path = path
        self.info = self.session.info
        self.prompts = self.session.prompts
        self.fields: dict[str, Field] = {}
        self.handles: dict[str, Any] = {}
        self.status = W.HTML(layout=full())
        self.session.on_saved = self._saved
        self.session.on_locked = self._locked_elsewhere
        self.session.on_error = lambda message: self._set_status(error=message)

    # -- the small public interface panels use
    @property
    def locked(self) -> bool:
        return self.session.locked

    @property
    def values(self) -> dict[str, Any]:
        return self.session.values

    def answers(self) -> dict[str, Any]:
        return self.session.answers()

    def flush(self) -> None:
        self.session.flush()

    def close(self) -> None:
        self.session.close()

    def show_restored(self, events: list[dict[str, Any]]) -> None:
        """Show answers written outside the widgets (restored from an upload)."""
        for ev in events:
            self._refresh_field(ev["id"])
            self._mirror(ev["id"], ev["v"], ev["t"])

    def refresh_lock(self) -> RecordState:
        """Re-read the record's state; turn read-only when it is now locked."""
        was = self.locked
        self.session.refresh()
        if self.locked and not was:
            self._lock_widgets()
        self._set_status()
        return self.session.state

    # -- display
    def show_status(self) -> None:
        from ..workshop.public import BANNER, banner_html

        banner = banner_html()  # "training only" on a public host such as mybinder.org
        if banner:  # a plain HTML output: kept in the saved notebook, no widget needed
            display({"text/html": banner, "text/plain": "Warning: " + BANNER}, raw=True)
        display({"text/html": STYLE, "text/plain": ""}, raw=True)
        self._set_status()
        display(self.status)

    def _set_status(self, saved: str = "", error: str = "") -> None:
        journal = html.escape(journal_path(self.path).name)
        if self.locked:
            msg = (f"<b>Locked.</b> This record is {html.escape(self.session.state.describe())}."
                   " Answers can no longer change; add an addendum at the end instead.")
        else:
            msg = ("Answers are saved automatically as you type "
                   f"(to <code>{journal}</code> beside this workbook).")
        if saved:
            msg += f" <b>Last saved {html.escape(saved)}.</b>"
        if error:
            msg += f"<br><span style='color:#b00020'>Problem: {html.escape(error)}</span>"
        self.status.value = f"<div class='sk-status' role='status'>{msg}</div>"

    def ask(self, prompt_id: str) -> None:
        """Show the widget for one prompt, and the mirror of its saved answer below it."""
        prompt = self.prompts[prompt_id]
        field = Field(prompt, self.values.get(prompt_id), disabled=self.locked,
                      on_change=self._on_change(prompt_id))
        self.fields[prompt_id] = field
        cond = prompt.get("show_if")
        if cond:
            field.visible(self._condition(cond))
        display(field.box)
        if app_mode():
            # Voila does not apply display updates sent after the page loaded, so a mirror
            # would go stale; the status line says when answers are saved.
            return
        out = answer_output(prompt, self.values.get(prompt_id),
                            self.session.times.get(prompt_id, ""))
        self.handles[prompt_id] = display(out["data"], raw=True, display_id=True)

    # -- changes
    def _on_change(self, prompt_id: str) -> Callable[[Any], None]:
        return lambda value: self._changed(prompt_id, value)

    def _changed(self, prompt_id: str, value: Any) -> None:
        try:
            value = self.session.put(prompt_id, value)
        except InputError as exc:
            self._set_status(error=str(exc))
            return
        if prompt_id in self.fields:  # inline warning when the text looks identifying
            from ..privacy.scan import inline_warning

            self.fields[prompt_id].note.value = inline_warning(value)
        for pid, field in self.fields.items():
            cond = self.prompts[pid].get("show_if")
            if cond and cond["prompt"] == prompt_id:
                field.visible(self._condition(cond))

    def _condition(self, cond: dict[str, Any]) -> bool:
        value = self.values.get(cond["prompt"])
        values = value if isinstance(value, list) else [value]
        return any(v in cond["in"] for v in values)

    def _mirror(self, pid: str, value: Any, t: str) -> None:
        handle = self.handles.get(pid)
        if handle is not None:
            handle.update(answer_output(self.prompts[pid], value, t)["data"], raw=True)

    def _saved(self, events: list[dict[str, Any]]) -> None:
        for ev in events:
            self._mirror(ev["id"], ev["v"], ev["t"])
        self._set_status(saved=dt.datetime.now().strftime("%H:%M:%S"))

    def _locked_elsewhere(self, state: RecordState) -> None:
        """A write found the record locked: nothing was saved; show the record as locked."""
        self._lock_widgets()
        for pid in self.fields:
            self._refresh_field(pid)
        self._set_status(error="this record was signed by both and locked while it was open "
                               "here, so your last change was not saved")

    def _lock_widgets(self) -> None:
        for f in self.fields.values():
            disable(f.box)

    def _refresh_field(self, pid: str) -> None:
        field = self.fields.get(pid)
        if field is None:
            return
        new = Field(self.prompts[pid], self.values.get(pid), disabled=self.locked,
                    on_change=self._on_change(pid))
        field.box.children = new.box.children  # keep the displayed box, swap its contents
        field.editor, field.note = new.editor, new.note

    # -- panels (each cell in the templates calls one of these)
    def progress_strip(self) -> None:
        """Small chart of this case's history at the top of a session."""
        from .panels import progress_strip

        progress_strip(self)

    def progress_review(self) -> None:
        """All progress charts and the goals/actions tables for this case."""
        from .panels import progress_review

        progress_review(self)

    def signoff_panel(self) -> None:
        """Sign buttons for worker and supervisor, and addenda once locked."""
        from .panels import signoff_panel

        signoff_panel(self)

    def download_panel(self) -> None:
        """Workshop: download my workbook / resume from an upload."""
        from .panels import download_panel

        download_panel(self)


def disable(widget: Any) -> None:
    if hasattr(widget, "disabled"):
        widget.disabled = True
    for child in getattr(widget, "children", ()):
        disable(child)
