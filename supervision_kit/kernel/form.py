"""The workbook as a form inside the kernel: ``wb`` in every workbook's cells.

Each section's ``wb.ask(id, ...)`` cell shows its prompts' boxes in one output (each question
is its input's label) and, below, one display handle per prompt that mirrors the saved answer
(custom MIME + markdown), so a normally saved notebook holds the answers too. The mirrors are
hidden on screen by the workbook's stylesheet (kernel/look.py) but stay in the saved outputs.
Changes go to the ``Session`` (kernel/session.py), which writes them through the core's one
append path; the mirror updates when the write is on disk. The status line at the top says
plainly what state the record is in (draft, incomplete, signed by one and waiting for the
other, locked). When a write finds the record locked (both signed elsewhere), every widget
turns read-only. The kernel never writes the open .ipynb.
"""

from __future__ import annotations

import datetime as dt
import html
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as W
from IPython.display import display

from ..core.errors import InputError, KitError
from ..core.mirror import answer_output
from ..core.prompts import is_answered, shown
from ..core.state import ROLES, RecordState
from ..core.store import journal_path
from ..generate.question import titles_of
from .fields import SHARED, Field, html_widget
from .look import OUT, icon, stylesheet_html, stylesheet_shown
from .session import Session, app_mode  # app_mode re-exported: the kernel's one check

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@dataclass
class Standing:
    """Where the record stands, for people: ``kind`` is draft, incomplete, signed or locked."""

    kind: str
    answered: int
    total: int
    missing: list[tuple[str, str]]
    state: RecordState

    def headline(self) -> str:
        """One line of plain text (HTML-free), e.g. 'Incomplete: 3 required answers missing'."""
        st = self.state
        if self.kind == "locked":
            return f"Locked: {st.describe()}"
        if self.kind == "signed":
            signed = [r for r in ROLES if r in st.signed]
            other = next(r for r in ROLES if r not in signed) if len(signed) < 2 else None
            who = " and ".join(f"{st.signed[r].get('name')} ({r})" for r in signed)
            if other:
                return f"Signed by {who}; waiting for the {other} to sign"
            return f"Signed by {who}, but for different answers: sign again to lock"
        if self.kind == "incomplete":
            n = len(self.missing)
            return f"Incomplete: {n} required answer{'s' if n != 1 else ''} missing"
        if not self.answered:
            return "Draft: no answers yet"
        return "Draft: every required answer is given, ready to sign"

    def icon(self) -> str:
        return icon({"locked": "lock", "signed": "pencil", "incomplete": "list-ul"}.get(
            self.kind, "check"))


# Seconds after the last cell ran at which ``focus_top`` focuses the top again: JupyterLab's
# run-all scroll gives up after 3 s (WindowedList's programmatic-scroll timeout).
REFOCUS_AFTER = (0.8, 3.4)


class Workbook:
    """The kernel side of one open workbook: widgets over a ``Session``."""

    def __init__(self, path: Path) -> None:
        self.session = Session(path)
        self.path = path
        self.info = self.session.info
        self.prompts = self.session.prompts
        self.titles = titles_of(self.prompts)
        self.fields: dict[str, Field] = {}
        self.handles: dict[str, Any] = {}
        self.status = html_widget("", "sk-status")
        self.top_control: Any = None  # what ``focus_top`` focuses (set by show_status)
        self.listeners: list[Any] = []  # called with the Standing after every change
        self._saved_at = ""
        self._error = ""
        self._changes = 0  # value changes so far: a late re-focus never follows the person
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

    def standing(self) -> Standing:
        """Where the record stands now: the record on disk (what ``sign`` will judge, through
        the same ``missing_required``) and the kernel's last known lock state."""
        from ..core.workbook import open_record
        from ..signoff import missing_required

        st = self.session.state
        try:
            rec = open_record(self.path)
            answers, missing = rec.answers, missing_required(rec)
        except KitError:  # the file is being replaced right now: judge the kernel's values
            answers, missing = self.answers(), []
        editable = [p for p in self.prompts.values() if not p.get("readonly")]
        answered = sum(is_answered(answers.get(p["id"])) for p in editable)
        kind = ("locked" if st.locked else "signed" if st.signed
                else "incomplete" if missing else "draft")
        return Standing(kind, answered, len(editable), missing, st)

    def show_restored(self, events: list[dict[str, Any]]) -> None:
        """Show answers written outside the widgets (restored from an upload)."""
        for ev in events:
            self._refresh_field(ev["id"])
            self._mirror(ev["id"], ev["v"], ev["t"])
        self._set_status()

    def refresh_lock(self) -> RecordState:
        """Re-read the record's state; turn read-only when it is now locked."""
        was = self.locked
        self.session.refresh()
        if self.locked and not was:
            self._lock_widgets()
        self._set_status()
        return self.session.state

    def refresh_mirrors(self) -> int:
        """Re-show every answer mirror from the record on disk (what ``finalize`` would
        write); returns how many answers they hold."""
        from ..core.workbook import open_record

        self.flush()
        merged = open_record(self.path).merged
        for pid in self.handles:
            a = merged.get(pid, {"v": None, "t": ""})
            self._mirror(pid, a["v"], a["t"])
        return sum(is_answered(a["v"]) for a in merged.values())

    # -- display
    def show_status(self) -> None:
        from ..workshop.public import BANNER, banner_html

        if not stylesheet_shown():  # workbooks whose parameters cell does not show it
            from .look import script_output

            display({"text/html": stylesheet_html(), "text/plain": ""}, raw=True)
            display(script_output()["data"], raw=True)
        banner = banner_html()  # "training only" on a public host such as mybinder.org
        if banner:  # a plain HTML output: kept in the saved notebook, no widget needed
            display({"text/html": banner, "text/plain": "Warning: " + BANNER}, raw=True)
        self._set_status()
        from .panels import missing_button

        check, listing = missing_button(self)
        self.top_control = None if self.locked else check
        display(W.VBox([self.status, check, listing], layout=SHARED.full,
                       _dom_classes=(OUT, "sk-status-box")))

    def _set_status(self, saved: str = "", error: str | None = None) -> None:
        if saved:
            self._saved_at = saved
        if error is not None:
            self._error = error
        s = self.standing()
        journal = html.escape(journal_path(self.path).name)
        head = f"{s.icon()} <b>{html.escape(s.headline())}</b>"
        if s.kind == "locked":
            msg = f"{head}. Answers can no longer change; add an addendum at the end instead."
        else:
            msg = (f"{head} · {s.answered} of {s.total} questions answered. Answers are saved "
                   f"automatically as you type (to <code>{journal}</code> beside this "
                   "workbook); sign and save the complete record at the end.")
        if self._saved_at:
            msg += f" Last saved {html.escape(self._saved_at)}."
        if self._error:
            msg += (f"<br><span class='sk-problem'>{icon('exclamation-triangle')} Problem: "
                    f"{html.escape(self._error)}</span>")
        value = f"<div role='status'>{msg}</div>"
        if self.status.value != value:
            self.status.value = value
        for listener in list(self.listeners):
            listener(s)

    def ask(self, *prompt_ids: str) -> None:
        """Show the boxes for a section's prompts (one output: every output JupyterLab adds
        costs it a layout), then the (hidden) mirror of each saved answer."""
        boxes, labels = [], []
        for prompt_id in prompt_ids:
            prompt = self.prompts[prompt_id]
            field = Field(prompt, self.values.get(prompt_id), disabled=self.locked,
                          on_change=self._on_change(prompt_id),
                          titles=self.titles, show=shown(prompt, self.values),
                          inline_question=self.session.inline_questions)
            self.fields[prompt_id] = field
            boxes.append(field.box)
            labels.append(str(prompt.get("label", prompt_id)))
        box = boxes[0] if len(boxes) == 1 else W.VBox(boxes, layout=SHARED.full,
                                                        _dom_classes=(OUT, "sk-section"))
        # the questions as text beside the widgets: what a saved notebook shows without them
        display({WIDGET_VIEW: {"version_major": 2, "version_minor": 0,
                               "model_id": box.model_id},
                 "text/plain": "\n".join(labels)}, raw=True)
        if app_mode():
            # Voila does not apply display updates sent after the page loaded, so a mirror
            # would go stale; the status line says when answers are saved.
            return
        for prompt_id in prompt_ids:
            out = answer_output(self.prompts[prompt_id], self.values.get(prompt_id),
                                self.session.times.get(prompt_id, ""))
            self.handles[prompt_id] = display(out["data"], raw=True, display_id=True)

    # -- changes
    def _on_change(self, prompt_id: str) -> Callable[[Any], None]:
        return lambda value: self._changed(prompt_id, value)

    def _changed(self, prompt_id: str, value: Any) -> None:
        self._changes += 1
        try:
            value = self.session.put(prompt_id, value)
        except InputError as exc:
            self._set_status(error=str(exc))
            return
        if self._error:
            self._error = ""
        if prompt_id in self.fields:  # inline warning when the text looks identifying
            from ..privacy.scan import inline_warning

            self.fields[prompt_id].warn(inline_warning(value))
        for pid, field in self.fields.items():
            cond = self.prompts[pid].get("show_if")
            if cond and cond["prompt"] == prompt_id:
                show = shown(self.prompts[pid], self.values)
                if show != field.shown:
                    field.visible(show)

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
            f.disabled = True
            disable(f.box)

    def _refresh_field(self, pid: str) -> None:
        field = self.fields.get(pid)
        if field is not None:
            field.replace_value(self.values.get(pid), self.locked)

    def focus_top(self) -> None:
        """Bring the view back to the top after Run All: focus the first control at the top
        of the workbook (ipywidgets' own focus message).

        Run All makes the last cell active and scrolls to it; JupyterLab then re-focuses that
        cell once its programmatic scroll settles (a scroll-end event, or after 3 s), which can
        come after the last cell ran. So the focus is sent again a little later, unless the
        person has changed an answer in the meantime."""
        if app_mode():
            return
        from .look import settled_output

        display(settled_output(), raw=True)
        target = getattr(self, "top_control", None)
        if target is None:
            return
        target.focus()
        changes = self._changes

        def again() -> None:
            if self._changes == changes and not self.locked:
                target.focus()

        for delay in REFOCUS_AFTER:
            timer = threading.Timer(delay, again)
            timer.daemon = True
            timer.start()

    # -- panels (each cell in the templates calls one of these)
    def progress_strip(self) -> None:
        """Small chart of this case's history at the top of a session (drawn on request)."""
        from .panels import progress_strip

        progress_strip(self)

    def progress_review(self) -> None:
        """All progress charts and the goals/actions tables for this case."""
        from .panels import progress_review

        progress_review(self)

    def finish_panel(self) -> None:
        """Check what is missing, sign, and save the complete record (end of a workbook)."""
        from .panels import finish_panel

        finish_panel(self)
        self.focus_top()

    def signoff_panel(self) -> None:
        """Workbooks made before the finish panel call this: the same panel."""
        self.finish_panel()

    def download_panel(self) -> None:
        """Workshop: download my workbook / resume from an upload."""
        from .panels import download_panel

        download_panel(self)
        self.focus_top()


def disable(widget: Any) -> None:
    if hasattr(widget, "disabled"):
        widget.disabled = True
    for child in getattr(widget, "children", ()):
        disable(child)


__all__ = ["SHARED", "Standing", "Workbook", "app_mode", "disable"]
