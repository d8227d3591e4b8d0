"""Input widgets for prompts: one ``Field`` per prompt, editors per kind, growable tables.

Every widget gets its own ``Layout`` (a shared one would make hiding one prompt hide all), and
its accessible name is the prompt's question.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from ..core.errors import KitError
from ..core.prompts import is_answered


def full() -> W.Layout:
    """A fresh full-width layout (never share one Layout: hiding one widget would hide all)."""
    return W.Layout(width="100%")


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
            options = [("—", None), *options]  # type: ignore[list-item]
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
