"""Input widgets for prompts: one ``Field`` per prompt, editors per kind, growable tables.

A field is one box: the question is the input's own ``description`` (ipywidgets renders it as a
``<label for=…>``, so the input's accessible name is the question; text only, never HTML), a
help line under it, then the input. Kinds without one input (several checkboxes, a table) show
the question as a heading and name each input by its option or column.

Widgets are cheap to make but each is a message to the browser, and Run All time grows with
their number: layouts and styles are shared (``SHARED``; never change a shared one: hiding is
done with CSS classes on the field's own box), the warning line is made only when needed, and a
conditional prompt that is not needed shows one quiet line and makes its editor only when shown.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from ..core.errors import KitError
from ..core.prompts import is_answered
from ..generate.question import OUT, condition_text, help_html


class _Shared:
    """Layouts and styles shared by every field in this kernel (read-only by convention)."""

    def __init__(self) -> None:
        self._made: dict[str, Any] = {}

    def get(self, key: str, make: Callable[[], Any]) -> Any:
        w = self._made.get(key)
        if w is None or getattr(w, "comm", True) is None:  # made anew after close_all()
            w = self._made[key] = make()
        return w

    @property
    def full(self) -> W.Layout:
        return self.get("full", lambda: W.Layout(width="100%"))

    @property
    def auto(self) -> W.Layout:
        return self.get("auto", lambda: W.Layout(width="auto"))

    @property
    def fit(self) -> W.Layout:
        """As wide as its content, even in a column (buttons, short inputs)."""
        return self.get("fit", lambda: W.Layout(width="auto", align_self="flex-start"))

    def style(self, cls: type) -> Any:
        return self.get(cls.__name__, lambda: cls(description_width="initial"))

    @property
    def html(self) -> Any:
        from ipywidgets.widgets.widget_string import HTMLStyle

        return self.get("HTMLStyle", HTMLStyle)


SHARED = _Shared()


def full() -> W.Layout:
    """A fresh full-width layout, for a widget whose layout will change."""
    return W.Layout(width="100%")


def html_widget(value: str, *classes: str) -> W.HTML:
    """An HTML widget (classes given at creation: each later ``add_class`` is a message)."""
    return W.HTML(value, layout=SHARED.full, style=SHARED.html, _dom_classes=classes,
                  tooltip="")


def _style(cls: type) -> Any:
    from ipywidgets.widgets.widget_description import DescriptionStyle
    from ipywidgets.widgets.widget_string import TextStyle

    return SHARED.style(TextStyle if cls in (W.Text, W.Textarea) else DescriptionStyle)


def _checkbox_style() -> Any:
    from ipywidgets.widgets.widget_bool import CheckboxStyle

    return SHARED.get("CheckboxStyle", CheckboxStyle)


class Field:
    """One prompt's box: ``value`` in the prompt's stored form, and a change callback."""

    def __init__(self, prompt: dict[str, Any], value: Any, *, disabled: bool,
                 on_change: Callable[[Any], None], titles: dict[str, str] | None = None,
                 show: bool = True, inline_question: bool = True) -> None:
        self.prompt = prompt
        self.disabled = disabled
        self._value = value
        self._on_change = on_change
        self._titles = titles or {}
        self._inline = inline_question
        self._editor: Editor | None = None
        self._note: W.HTML | None = None
        self._condline: W.HTML | None = None
        self.shown = show
        pid = prompt["id"]
        help_ = help_html(prompt, self._titles) if inline_question else ""
        self._help = html_widget(help_, "sk-help") if help_ else None
        self._head = None
        if inline_question and prompt["kind"] in ("multi", "table"):
            self._head = html_widget(
                f"<div class='sk-q' role='heading' aria-level='3'>"
                f"{html.escape(str(prompt['label']))}</div>", "sk-head")
        # one message per widget: children and classes go in with the box's creation
        classes = [OUT, "sk-prompt", f"sk-prompt-{pid}",  # stable hook for styling and tests
                   f"sk-kind-{prompt['kind']}"] + ([] if show else ["sk-off"])
        self.box = W.VBox(self._children(show), layout=SHARED.full, _dom_classes=classes)

    # -- the editor, made on first need
    @property
    def editor(self) -> Editor:
        if self._editor is None:
            p = self.prompt
            label = str(p["label"]) if self._inline else ""
            if p["kind"] == "table":
                self._editor = TableEditor(p, self._value, self.disabled)
            else:
                self._editor = editor(p, self._value, self.disabled, label=label)
            if not self.disabled:
                ed = self._editor
                ed.watch(lambda: self._on_change(ed.get()))
        return self._editor

    @property
    def widget(self) -> W.Widget:
        return self.editor.widget

    @property
    def value(self) -> Any:
        return self.editor.get() if self._editor is not None else self._value

    @property
    def note(self) -> W.HTML:
        """The warning line under the input (made when first used)."""
        if self._note is None:
            self._note = html_widget("", "sk-note")
            if self.shown:
                self.box.children = (*self.box.children, self._note)
        return self._note

    def warn(self, message_html: str) -> None:
        if message_html or self._note is not None:
            self.note.value = message_html

    def _children(self, show: bool) -> tuple[W.Widget, ...]:
        if not show:
            if self._condline is None:
                cond = condition_text(self.prompt, self._titles) or "Not needed for now."
                self._condline = html_widget(
                    f"{html.escape(str(self.prompt['label']))} — {html.escape(cond)}",
                    "sk-condline")
            return (self._condline,)
        parts = [w for w in (self._head, self._help) if w is not None]
        parts.append(self.editor.widget)
        if self._note is not None:
            parts.append(self._note)
        return tuple(parts)

    def visible(self, show: bool) -> None:
        """Show the prompt, or one quiet line saying when it is needed."""
        self.shown = show
        self.box.children = self._children(show)
        if show:
            self.box.remove_class("sk-off")
        else:
            self.box.add_class("sk-off")

    def replace_value(self, value: Any, disabled: bool) -> None:
        """Show a value written elsewhere (restored, or read again after a lock)."""
        self._value, self.disabled = value, disabled
        self._editor = None
        self.visible(self.shown)


class Editor:
    """A widget plus how to read its value and how to watch it."""

    def __init__(self, widget: W.Widget, get: Callable[[], Any],
                 watched: list[W.Widget]) -> None:
        self.widget, self.get, self._watched = widget, get, watched

    def watch(self, callback: Callable[[], None]) -> None:
        for w in self._watched:
            w.observe(lambda _change: callback(), names="value")


def _input(cls: type, label: str, **kw: Any) -> Any:
    return cls(description=label, description_allow_html=False, style=_style(cls), tooltip="",
               layout=kw.pop("layout", SHARED.full), **kw)


def editor(item: dict[str, Any], value: Any, disabled: bool, compact: bool = False,
           label: str = "") -> Editor:
    """An editor for a prompt or table column of any kind except ``table``. ``label`` is the
    input's accessible name (the question, or the column and row in a table)."""
    kind = item["kind"]
    ph = item.get("placeholder", "")
    if kind == "long_text":
        w = _input(W.Textarea, label, value=value or "", placeholder=ph,
                   rows=2 if compact else 4, disabled=disabled, continuous_update=True)
        return Editor(w, lambda: w.value, [w])
    if kind == "short_text":
        w = _input(W.Text, label, value=value or "", placeholder=ph, disabled=disabled)
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
        w = _input(cls, label, options=options, _dom_classes=() if compact else ("sk-wrap",),
                   value=value if value in [v for _, v in options] else None, disabled=disabled)
        return Editor(w, lambda: w.value, [w])
    if kind == "multi":
        chosen = set(value or [])
        boxes = [W.Checkbox(value=o in chosen, description=o, indent=False, disabled=disabled,
                            layout=SHARED.full, style=_checkbox_style())
                 for o in item["options"]]
        return Editor(W.VBox(boxes, layout=SHARED.full),
                      lambda: [b.description for b in boxes if b.value], boxes)
    if kind == "date":
        initial = dt.date.fromisoformat(value) if value else None
        w = _input(W.DatePicker, label, value=initial, disabled=disabled,
                   layout=SHARED.fit)
        return Editor(w, lambda: w.value.isoformat() if w.value else None, [w])
    if kind == "number":
        w = _input(W.Text, label, value="" if value is None else str(value), placeholder=ph,
                   disabled=disabled, layout=SHARED.fit)

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
    """A growable table: one row of editors per entry, with add and remove buttons. Each cell
    is named for screen readers by its column and row ("Speaker, row 2")."""

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
        self.grid.add_class("sk-table")  # (one table per prompt: a message is fine)
        self.add = W.Button(description="Add row", icon="plus", disabled=disabled,
                            tooltip=f"Add a row to “{prompt['label']}”")
        self.add.on_click(lambda _b: self._add_row({}, notify=True))
        self.head = [html_widget(f"<b>{html.escape(c['label'])}</b>") for c in self.columns]
        self.head.append(html_widget(""))
        for row in value or []:
            self._add_row(row, notify=False)
        if not self.rows and not disabled:
            self._add_row({}, notify=False)
        super().__init__(W.VBox([self.grid, self.add], layout=SHARED.full), self._get, [])

    def watch(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)
        for row in self.rows:
            for ed in row.values():
                Editor.watch(ed, callback)

    def _notify(self) -> None:
        for cb in self._callbacks:
            cb()

    def _add_row(self, row: dict[str, Any], notify: bool) -> None:
        n = len(self.rows) + 1
        eds = {c["id"]: editor(c, row.get(c["id"]), self.disabled, compact=True,
                               label=f"{c['label']}, row {n}")
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
        cells: list[W.Widget] = list(self.head)
        for n, eds in enumerate(self.rows, 1):
            for c in self.columns:
                w = eds[c["id"]].widget
                name = f"{c['label']}, row {n}"
                if getattr(w, "description", name) != name:
                    w.description = name
                cells.append(w)
            rm = W.Button(icon="trash", tooltip=f"Remove row {n}", disabled=self.disabled,
                          layout=W.Layout(width="36px"))
            rm.on_click(lambda _b, eds=eds: self._remove(eds))
            cells.append(rm)
        self.grid.children = cells

    def _get(self) -> list[dict[str, Any]]:
        rows = [{cid: ed.get() for cid, ed in eds.items()} for eds in self.rows]
        return [r for r in rows if any(is_answered(v) for v in r.values())]
