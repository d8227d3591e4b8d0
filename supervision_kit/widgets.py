"""Render a workbook's prompts as ipywidgets inside the kernel, wired to the journal.

Each ``wb.ask(id)`` cell shows one input widget and, below it, a display handle that mirrors
the saved answer (custom MIME + markdown), so a normally saved notebook holds the answers too.
Every change goes to a ``DebouncedWriter``; the mirror updates when the write is on disk.
The kernel never writes the open .ipynb.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import html
import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as W
from IPython.display import display

from . import journal as jr
from .errors import InputError, KitError
from .prompts import check_value, is_answered
from .record import (
    _merged,
    answer_output,
    kernel_marker,
    load_notebook,
    prompt_index,
    workbook_info,
)
from .signoff import lock_state
from .store import FILE_MODE, journal_path

_current: Workbook | None = None


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


def full() -> W.Layout:
    """A fresh full-width layout (never share one Layout: hiding one widget would hide all)."""
    return W.Layout(width="100%")


def open_workbook(workbook_file: str, *, show: bool = True) -> Workbook:
    """Open the workbook this kernel runs (called by the workbook's setup cell)."""
    global _current
    if _current is not None:
        _current.close()
    path = _locate(workbook_file)
    from .workshop import check_public_open

    check_public_open(path)  # public Binder: workshop workbooks only
    _current = Workbook(path)
    if show:
        _current.show_status()
    return _current


def _locate(workbook_file: str) -> Path:
    here = Path.cwd() / workbook_file
    if here.is_file():
        return here
    session = os.environ.get("JPY_SESSION_NAME", "")
    if session.endswith(".ipynb") and Path(session).is_file():
        return Path(session)
    raise InputError(f"cannot find {workbook_file} in {Path.cwd()}: open the workbook from its "
                     "own folder")


class Workbook:
    """The kernel side of one open workbook."""

    def __init__(self, path: Path) -> None:
        nb = load_notebook(path)
        self.path = path
        self.info = workbook_info(nb)
        self.prompts = prompt_index(nb)
        saved = _merged(path, nb)
        self.values: dict[str, Any] = {pid: a["v"] for pid, a in saved.items()}
        self.times: dict[str, str] = {pid: a["t"] for pid, a in saved.items()}
        self.locked = lock_state(path)["locked"]
        self.fields: dict[str, Field] = {}
        self.handles: dict[str, Any] = {}
        self.status = W.HTML(layout=full())
        self.writer = jr.DebouncedWriter(
            journal_path(path), on_flush=self._flushed,
            on_error=lambda message: self._set_status(error=message),
            role=lambda pid: self.prompts.get(pid, {}).get("role", "worker"))
        self._mark_open()
        atexit.register(self.close)

    # -- lifecycle
    def _mark_open(self) -> None:
        marker = kernel_marker(self.path)
        data = {"pid": os.getpid(), "host": socket.gethostname(), "since": jr.now()}
        with contextlib.suppress(OSError):
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh)

    def close(self) -> None:
        """Flush pending answers and drop the 'open in a kernel' marker."""
        with contextlib.suppress(Exception):
            self.writer.flush()
        with contextlib.suppress(OSError):
            marker = kernel_marker(self.path)
            if json.loads(marker.read_text()).get("pid") == os.getpid():
                marker.unlink()

    # -- display
    def show_status(self) -> None:
        from .workshop import BANNER, banner_html

        banner = banner_html()  # "training only" on a public host such as mybinder.org
        if banner:  # a plain HTML output: kept in the saved notebook, no widget needed
            display({"text/html": banner, "text/plain": "⚠️ " + BANNER}, raw=True)
        display({"text/html": STYLE, "text/plain": ""}, raw=True)
        self._set_status()
        display(self.status)

    def _set_status(self, saved: str = "", error: str = "") -> None:
        journal = html.escape(journal_path(self.path).name)
        if self.locked:
            msg = ("🔒 This record is signed by both of you and locked. "
                   "Add an addendum to change it.")
        else:
            msg = ("💾 Answers are saved automatically as you type "
                   f"(to <code>{journal}</code> beside this workbook).")
        if saved:
            msg += f" <b>Last saved {html.escape(saved)}.</b>"
        if error:
            msg += f"<br><span style='color:#b00020'>⚠️ {html.escape(error)}</span>"
        self.status.value = f"<div class='sk-status'>{msg}</div>"

    def ask(self, prompt_id: str) -> None:
        """Show the widget for one prompt, and the mirror of its saved answer below it."""
        prompt = self.prompts[prompt_id]
        field = Field(prompt, self.values.get(prompt_id), disabled=self.locked,
                      on_change=lambda v, pid=prompt_id: self._changed(pid, v))
        self.fields[prompt_id] = field
        cond = prompt.get("show_if")
        if cond:
            field.visible(self._condition(cond))
        display(field.box)
        if os.environ.get("VOILA_BASE_URL") is not None:
            # App mode: the page is never saved as a notebook, and Voila does not apply display
            # updates sent after the page loaded, so a mirror would go stale. The status line
            # says when answers are saved.
            return
        out = answer_output(prompt, self.values.get(prompt_id), self.times.get(prompt_id, ""))
        self.handles[prompt_id] = display(out["data"], raw=True, display_id=True)

    # -- changes
    def _changed(self, prompt_id: str, value: Any) -> None:
        try:
            value = check_value(self.prompts[prompt_id], value)
        except InputError as exc:
            self._set_status(error=str(exc))
            return
        if prompt_id in self.fields:  # inline warning when the text looks identifying
            from .privacy import inline_warning

            self.fields[prompt_id].note.value = inline_warning(value)
        self.values[prompt_id] = value
        self.writer.put(prompt_id, value)
        for pid, field in self.fields.items():
            cond = self.prompts[pid].get("show_if")
            if cond and cond["prompt"] == prompt_id:
                field.visible(self._condition(cond))

    def _condition(self, cond: dict[str, Any]) -> bool:
        value = self.values.get(cond["prompt"])
        values = value if isinstance(value, list) else [value]
        return any(v in cond["in"] for v in values)

    def _flushed(self, events: list[dict[str, Any]]) -> None:
        for ev in events:
            pid = ev["id"]
            self.times[pid] = ev["t"]
            handle = self.handles.get(pid)
            if handle is not None:
                handle.update(answer_output(self.prompts[pid], ev["v"], ev["t"])["data"], raw=True)
        self._set_status(saved=dt.datetime.now().strftime("%H:%M:%S"))

    # -- panels owned by other modules (each cell in the templates calls one of these)
    def progress_strip(self) -> None:
        """Small chart of this case's history at the top of a session (progress/charts)."""
        from .charts import progress_strip

        progress_strip(self)

    def progress_review(self) -> None:
        """All progress charts and the goals/actions table for this case."""
        from .charts import progress_review

        progress_review(self)

    def signoff_panel(self) -> None:
        """Sign buttons for worker and supervisor."""
        from .signoff import signoff_panel

        signoff_panel(self)

    def download_panel(self) -> None:
        """Workshop: download my workbook / resume from an upload."""
        from .workshop import download_panel

        download_panel(self)

    def answers(self) -> dict[str, Any]:
        return {pid: v for pid, v in self.values.items() if is_answered(v)}


class Field:
    """One prompt's input widget: ``value`` in the prompt's stored form, and change callback."""

    def __init__(self, prompt: dict[str, Any], value: Any, *, disabled: bool,
                 on_change: Callable[[Any], None]) -> None:
        self.prompt = prompt
        if prompt["kind"] == "table":
            self.editor: Editor = TableEditor(prompt, value, disabled)
        else:
            self.editor = editor(prompt, value, disabled)
        self.note = W.HTML()
        self.box = W.VBox([self.editor.widget, self.note], layout=full())
        self.box.add_class("sk-prompt")
        self.box.add_class(f"sk-prompt-{prompt['id']}")  # stable hook for styling and tests
        if not disabled:
            self.editor.watch(lambda: on_change(self.editor.get()))

    @property
    def widget(self) -> W.Widget:
        return self.editor.widget

    @property
    def value(self) -> Any:
        return self.editor.get()

    def visible(self, show: bool) -> None:
        self.editor.widget.layout.display = None if show else "none"
        self.note.value = "" if show else "<i>Not needed for now (see the condition above).</i>"


class Editor:
    """A widget plus how to read its value and how to watch it."""

    def __init__(self, widget: W.Widget, get: Callable[[], Any],
                 watched: list[W.Widget]) -> None:
        self.widget, self.get, self._watched = widget, get, watched

    def watch(self, callback: Callable[[], None]) -> None:
        for w in self._watched:
            w.observe(lambda _change: callback(), names="value")


def editor(item: dict[str, Any], value: Any, disabled: bool, compact: bool = False) -> Editor:
    """An editor for a prompt or table column of any kind except ``table``."""
    kind = item["kind"]
    ph = item.get("placeholder", "")
    if kind == "long_text":
        w = W.Textarea(value=value or "", placeholder=ph, rows=2 if compact else 5,
                       layout=full(), disabled=disabled, continuous_update=True)
        return Editor(w, lambda: w.value, [w])
    if kind == "short_text":
        w = W.Text(value=value or "", placeholder=ph, layout=full(), disabled=disabled)
        return Editor(w, lambda: w.value, [w])
    if kind in ("scale", "choice"):
        if kind == "scale":
            anchors = item.get("anchors", {})
            options = [(f"{i} · {anchors[str(i)]}" if str(i) in anchors else str(i), i)
                       for i in range(item["min"], item["max"] + 1)]
        else:
            options = [(o, o) for o in item["options"]]
        cls = W.Dropdown if compact else W.RadioButtons
        if compact:
            options = [("—", None), *options]
        w = cls(options=options, value=value if value in [v for _, v in options] else None,
                layout=full(), disabled=disabled)
        w.add_class("sk-wrap")
        return Editor(w, lambda: w.value, [w])
    if kind == "multi":
        chosen = set(value or [])
        boxes = [W.Checkbox(value=o in chosen, description=o, indent=False, disabled=disabled,
                            layout=full()) for o in item["options"]]
        return Editor(W.VBox(boxes, layout=full()),
                      lambda: [b.description for b in boxes if b.value], boxes)
    if kind == "date":
        initial = dt.date.fromisoformat(value) if value else None
        w = W.DatePicker(value=initial, disabled=disabled)
        return Editor(w, lambda: w.value.isoformat() if w.value else None, [w])
    if kind == "number":
        w = W.Text(value="" if value is None else str(value), placeholder=ph or "a number",
                   disabled=disabled)

        def get() -> Any:
            text = w.value.strip()
            if not text:
                return None
            try:
                return int(text)
            except ValueError:
                try:
                    return float(text)
                except ValueError:
                    return text  # check_value reports it
        return Editor(w, get, [w])
    raise KitError(f"no editor for kind {kind!r}")


class TableEditor(Editor):
    """A growable table: one row of editors per entry, with add and remove buttons."""

    def __init__(self, prompt: dict[str, Any], value: Any, disabled: bool) -> None:
        self.columns = prompt["columns"]
        self.disabled = disabled
        self.rows: list[dict[str, Editor]] = []
        self._callbacks: list[Callable[[], None]] = []
        self.grid = W.GridBox(layout=W.Layout(
            width="100%", grid_gap="4px",
            grid_template_columns=" ".join(
                "minmax(110px, 170px)" if c["kind"] in ("choice", "scale", "date", "number")
                else "1fr" for c in self.columns) + " 40px"))
        self.add = W.Button(description="Add row", icon="plus", disabled=disabled)
        self.add.on_click(lambda _b: self._add_row({}, notify=True))
        for row in value or []:
            self._add_row(row, notify=False)
        if not self.rows and not disabled:
            self._add_row({}, notify=False)
        super().__init__(W.VBox([self.grid, self.add], layout=full()), self._get, [])

    def watch(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)
        for row in self.rows:
            for ed in row.values():
                Editor.watch(ed, callback)

    def _notify(self) -> None:
        for cb in self._callbacks:
            cb()

    def _add_row(self, row: dict[str, Any], notify: bool) -> None:
        eds = {c["id"]: editor(c, row.get(c["id"]), self.disabled, compact=True)
               for c in self.columns}
        for cb in self._callbacks:
            for ed in eds.values():
                Editor.watch(ed, cb)
        self.rows.append(eds)
        self._render()
        if notify:
            self._notify()

    def _remove(self, eds: dict[str, Editor]) -> None:
        self.rows.remove(eds)
        self._render()
        self._notify()

    def _render(self) -> None:
        head = [W.HTML(f"<b>{html.escape(c['label'])}</b>") for c in self.columns] + [W.HTML()]
        cells: list[W.Widget] = list(head)
        for eds in self.rows:
            cells += [ed.widget for ed in eds.values()]
            rm = W.Button(icon="trash", tooltip="Remove this row", disabled=self.disabled,
                          layout=W.Layout(width="36px"))
            rm.on_click(lambda _b, eds=eds: self._remove(eds))
            cells.append(rm)
        self.grid.children = cells

    def _get(self) -> list[dict[str, Any]]:
        rows = [{cid: ed.get() for cid, ed in eds.items()} for eds in self.rows]
        return [r for r in rows if any(is_answered(v) for v in r.values())]
