"""Panels the workbook's hidden cells show: progress, finishing (check, sign, save the complete
record), download and resume.

They talk to the ``Workbook`` form's small public interface (path, info, flush, standing,
refresh_lock, refresh_mirrors, show_restored, listeners) and to the feature functions; none
reaches into the core's internals.

Saving the complete record in JupyterLab: the kernel must never write the open .ipynb (the
browser would overwrite it, or show "File changed"). Instead the kernel keeps every answer's
mirror output current, and the "Save the complete record" button is JupyterLab's own
``docmanager:save`` command, placed in a trusted HTML output through JupyterLab's command
linker (``data-commandlinker-command``); the kernel then reads the saved file back and says
whether it holds every answer. In app mode (Voila) nothing holds the .ipynb open in a
browser, so the same button runs ``finalize`` on it.
"""

from __future__ import annotations

import base64
import contextlib
import html
import os
import threading
import time
from pathlib import Path
from typing import Any, Protocol

import ipywidgets as W
from IPython import display as ipd

from ..core.errors import IncompleteError, KitError
from ..core.notebook import notebook_text
from ..core.prompts import is_answered
from ..core.state import ROLES, RecordState
from ..core.store import atomic_write, make_private_dir
from ..progress import measures as P
from ..signoff import add_addendum, sign
from ..signoff.embed import when
from ..workshop.resume import DATA_URI_LIMIT, answers_to_restore, download_copy
from .fields import SHARED, html_widget
from .look import OUT, icon, marked
from .session import Session

SAVE_COMMAND = "docmanager:save"  # JupyterLab's File > Save, run through its command linker
WATCH_EVERY = 1.0  # s: how often the kernel looks whether the notebook file was saved
DOWNLOAD_REFRESH = 1.0  # s after the last saved change, the download link is rebuilt


class Workbook(Protocol):
    """What a panel needs of the open workbook (kernel/form.py's ``Workbook``)."""

    path: Path
    info: dict[str, Any]
    prompts: dict[str, dict[str, Any]]
    session: Session
    listeners: list[Any]
    handles: dict[str, Any]

    @property
    def locked(self) -> bool: ...
    def flush(self) -> None: ...
    def standing(self) -> Any: ...
    def answers(self) -> dict[str, Any]: ...
    def refresh_lock(self) -> RecordState: ...
    def refresh_mirrors(self) -> int: ...
    def show_restored(self, events: list[dict[str, Any]]) -> None: ...


def problem(text: str) -> str:
    return (f"<span class='sk-problem'>{icon('exclamation-triangle')} Problem: "
            f"{html.escape(text)}</span>")


def _show(fig: Any) -> None:
    from ..progress.charts import png

    ipd.display(ipd.Image(data=png(fig), format="png"))


def _html(text: str) -> None:
    ipd.display({"text/html": marked(text), "text/plain": ""}, raw=True)


def _store_of(wb: Workbook) -> Path:
    return Path(wb.info.get("store") or Path(wb.path).parent.parent)


def button(description: str, icon_name: str = "", style: str = "") -> W.Button:
    return W.Button(description=description, icon=icon_name, button_style=style,
                    layout=SHARED.fit)


# ---------------------------------------------------------------- what is missing


def missing_html(wb: Workbook, missing: list[tuple[str, str]]) -> str:
    if not missing:
        return (f"<p class='sk-ok'>{icon('check')} Every required answer is given: the record "
                "can be signed.</p>")
    items = []
    for pid, label in missing:
        section = wb.prompts.get(pid, {}).get("section_title", "")
        where = f" <i>({html.escape(str(section))})</i>" if section else ""
        items.append(f"<li>{html.escape(label)}{where}</li>")
    n = len(missing)
    return (f"<p><b>{n} required answer{'s' if n != 1 else ''} still missing</b> before the "
            f"record can be signed:</p><ul>{''.join(items)}</ul>")


def check_missing(wb: Workbook) -> list[tuple[str, str]]:
    """Required answers still missing, from the record on disk (what ``sign`` will check)."""
    from ..core.workbook import open_record
    from ..signoff import missing_required

    wb.flush()
    return missing_required(open_record(wb.path))


def missing_button(wb: Workbook) -> tuple[W.Button, W.HTML]:
    """A "Check what is missing" button and the list it fills in."""
    check = button("Check what is missing", "list-ul")
    check.disabled = wb.locked
    listing = html_widget("", "sk-missing")

    def on_click(_b: Any) -> None:
        try:
            listing.value = missing_html(wb, check_missing(wb))
        except KitError as exc:
            listing.value = problem(str(exc))

    check.on_click(on_click)
    return check, listing


# ---------------------------------------------------------------- progress strip


def _earlier_sessions(wb: Workbook) -> list[Path]:
    """Session workbooks of this case dated before this one (file names only: no parsing)."""
    here = Path(wb.path).resolve()
    date = str(wb.info.get("session_date") or "")
    cases = list(wb.info.get("cases") or []) or [str(wb.info.get("case_id") or "")]
    store = _store_of(wb)
    # sessions name their cases: <store>/sessions/<date>-session-<case>….ipynb; workbooks made
    # by 0.1 live in <store>/<case>/<date>-session.ipynb
    found = [p for p in (store / "sessions").glob("2*-session*.ipynb")
             if any(f"-{c}-" in p.stem[10:] + "-" for c in cases if c)]
    for c in cases:
        if c:
            found += (store / c).glob("2*-session.ipynb")
    return sorted((p for p in set(found)
                   if p.resolve() != here and (not date or p.name[:10] < date)),
                  key=lambda p: p.name)


def progress_strip(wb: Workbook) -> W.Widget | None:
    """Top of a session workbook: a line about this case's earlier sessions, and a button
    that draws the progress chart (on request: the chart reads the whole store, which would
    hold up every prompt below it)."""
    import datetime as dt

    earlier = _earlier_sessions(wb)
    if not earlier:
        _html("<p><i>No earlier sessions for this case yet: a progress chart is offered here "
              "from the second session.</i></p>")
        return None
    n = len(earlier)
    case = html.escape(str(wb.info.get("case_id", "")))
    try:
        since = f" since {dt.date.fromisoformat(earlier[0].name[:10]).strftime('%d %b %Y')}"
    except ValueError:
        since = ""
    line = html_widget(f"<p><b>Progress so far</b>: {n} earlier session{'s' if n != 1 else ''}"
                       f"{since}. <code>supervision-kit progress --case {case}</code> makes "
                       "the full review.</p>")
    show = W.Button(description="Show the progress chart", icon="line-chart",
                    layout=W.Layout(width="auto", align_self="flex-start"))
    chart = W.VBox(layout=SHARED.full)

    def draw(_b: Any) -> None:
        from ..progress.charts import png

        show.disabled = True
        try:
            fig = strip_figure(wb)
            chart.children = (W.Image(value=png(fig), format="png",
                                      layout=W.Layout(max_width="100%")),) if fig else (
                html_widget("<p><i>No earlier session records could be read.</i></p>"),)
            show.layout.display = "none"
        except Exception as exc:  # noqa: BLE001 - a chart must never break the workbook
            chart.children = (html_widget(problem(f"progress chart unavailable: {exc}")),)
            show.disabled = False

    show.on_click(draw)
    box = W.VBox([line, show, chart], layout=SHARED.full, _dom_classes=(OUT, "sk-strip"))
    ipd.display(box)
    return box


def strip_figure(wb: Workbook) -> Any:
    """The progress strip's figure for this case's earlier sessions (None without any)."""
    import pandas as pd

    from ..progress.charts import strip_chart
    from ..table.index import load_store

    case = wb.info.get("case_id")
    date = str(wb.info.get("session_date") or "")
    df = load_store(_store_of(wb), case=case, progress=False)
    here = str(Path(wb.path).resolve())
    when_ = pd.Timestamp(date) if date else pd.Timestamp.max
    keep = ((df["record"] == P.SESSION) & (df["date"] < when_)
            & (df["path"].map(lambda p: str(Path(p).resolve())) != here))
    earlier = df[keep]
    return None if earlier.empty else strip_chart(earlier, str(case))


def progress_review(wb: Workbook) -> None:
    """The progress template: every chart for the case, then goals and actions with status."""
    from ..progress.charts import review_figures, review_tables_html
    from ..table.index import load_store

    case = str(wb.info.get("case_id") or "")
    df = load_store(_store_of(wb), progress=False)
    settings = dict(wb.info.get("parameters") or {})
    case_df = df[df["case"] == case]
    n = case_df.loc[case_df["record"] == P.SESSION, "path"].nunique()
    _html(f"<p><b>{n} session workbook{'s' if n != 1 else ''}</b> for case "
          f"<code>{html.escape(str(case))}</code> in this store.</p>")
    for s in df.attrs.get("skipped", []):
        _html(f"<p><i>Skipped an unreadable file: {html.escape(s['error'])}</i></p>")
    for fig in review_figures(df, case, wb.info.get("worker"), settings):
        _show(fig)
    _html(review_tables_html(case_df, case))
    evidence_section(wb)


def evidence_section(wb: Workbook) -> None:
    """Placements: the worker's evidence map (competency × month), table and gap list, when
    the worker has a learning agreement (docs/placements.md). Never stops the review."""
    from ..placements.agreements import worker_framework
    from ..placements.evidence import collect, evidence_map, gaps
    from ..placements.report import evidence_figure, evidence_table_html, gaps_html

    worker = str(wb.info.get("worker") or "")
    date = str(wb.info.get("session_date") or "") or None
    try:
        fw = worker_framework(_store_of(wb), worker, date)
        if fw is None:
            return
        items = collect(_store_of(wb), worker, fw, until=date)
        table = evidence_map(items, fw)
    except Exception as exc:  # noqa: BLE001 - a chart must never stop the workbook opening
        _html(f"<p><i>Evidence map unavailable: {html.escape(str(exc))}</i></p>")
        return
    _html(f"<h3>Evidence map</h3><p>{len(items)} piece(s) of evidence for "
          f"{html.escape(worker)} against {html.escape(fw.title)}. Run <code>supervision-kit "
          f"evidence --worker …</code> for every quote.</p>")
    _show(evidence_figure(table, fw, worker))
    _html(evidence_table_html(table) + "<h4>Gaps</h4>" + gaps_html(gaps(items, fw)))


# ---------------------------------------------------------------- finishing


def default_signer(role: str, info: dict[str, Any]) -> str:
    """The name the finish panel offers for ``role``: the workbook's worker/supervisor.

    HOOK (JupyterHub): under a hub the signed-in account decides which role may sign
    (``signoff.identity.check_signer``, enforced by ``sign``; ``hub_note`` tells the person).
    To prefill the hub's own display name, or offer only that account's row, change this
    function; elsewhere the name comes from the workbook and the person checks it.
    """
    return str(info.get(role) or "")


def save_button_html() -> str:
    """The "Save the complete record" button in JupyterLab: its own Save command."""
    return (f"<p><button type='button' class='sk-save-record' "
            f"data-commandlinker-command='{SAVE_COMMAND}'>Save the complete record</button> "
            "Saves this notebook file with every answer in it (the same as "
            "<b>File ▸ Save Notebook</b> or <kbd>Ctrl</kbd>+<kbd>S</kbd>).</p>")


def file_state(wb: Workbook) -> tuple[bool, str]:
    """(complete, HTML line): does the .ipynb on disk hold every answer the kernel has?"""
    from ..core.workbook import load_notebook, notebook_answers

    try:
        saved = notebook_answers(load_notebook(wb.path))
        mtime = time.strftime("%H:%M:%S", time.localtime(os.stat(wb.path).st_mtime))
    except (OSError, KitError) as exc:
        return False, problem(f"cannot read the notebook file: {exc}")
    current = {pid: v for pid, v in wb.answers().items() if pid in wb.handles}
    behind = [pid for pid in wb.handles
              if (saved.get(pid, {}).get("v") if is_answered(saved.get(pid, {}).get("v"))
                  else None) != current.get(pid)]
    n = len(current)
    if not behind:
        return True, (f"<p class='sk-ok'>{icon('check')} The notebook file (saved {mtime}) holds "
                      f"all {n} answer{'s' if n != 1 else ''}: it is the complete record.</p>")
    k = len(behind)
    what = "your latest answer" if k == 1 else f"{k} of your latest answers"
    return False, (f"<p>{icon('info-circle')} The notebook file (saved {mtime}) does not hold "
                   f"{what} yet. {'It is' if k == 1 else 'They are'} safe in the journal; "
                   "press <b>Save the complete record</b> to put "
                   f"{'it' if k == 1 else 'them'} in the file.</p>")


class FileWatch:
    """Re-checks ``file_state`` when the notebook file changes (JupyterLab saved it) or when
    answers change; a daemon thread that ends with the kernel."""

    def __init__(self, wb: Workbook, out: W.HTML) -> None:
        self.wb, self.out = wb, out
        self._mtime = -1
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.check()
        wb.listeners.append(lambda _s: self.check())
        self._thread = threading.Thread(target=self._run, daemon=True, name="sk-file-watch")
        self._thread.start()

    def check(self) -> None:
        with self._lock, contextlib.suppress(Exception):
            value = file_state(self.wb)[1]
            if self.out.value != value:
                self.out.value = value

    def _run(self) -> None:
        while not self._stop.wait(WATCH_EVERY):
            try:
                m = os.stat(self.wb.path).st_mtime_ns
            except OSError:
                continue
            if m != self._mtime:
                self._mtime = m
                self.check()

    def stop(self) -> None:
        self._stop.set()


def hub_note(info: dict[str, Any]) -> str:
    """On JupyterHub: which role the signed-in account may sign (signoff.identity)."""
    from ..signoff.identity import account_for, hub_user

    user = hub_user()
    if not user:
        return ""
    mine = [r for r in ROLES if account_for(info, r) == user]
    what = f"you can sign as the {mine[0]}" if mine else "you cannot sign this record"
    return f"<i>Signed in to the hub as <b>{html.escape(user)}</b>: {what}.</i>"


def finish_panel(wb: Workbook) -> W.Widget:
    """The end of a workbook: where the record stands, what is missing, sign as worker or
    supervisor, save the complete record, and addenda once locked."""
    from .session import app_mode

    state = html_widget("", "sk-state")
    message = html_widget("")
    check, listing = missing_button(wb)
    sign_rows, sign_buttons = [], []
    for role in ROLES:
        name = W.Text(value=default_signer(role, wb.info), description=f"{role.capitalize()}'s "
                      "name", style=SHARED.style(_text_style()), layout=W.Layout(width="360px"))
        btn = button(f"Sign as {role}", "check", "success")
        btn.on_click(lambda _b, role=role, name=name: _sign(role, name.value))
        sign_buttons.append(btn)
        sign_rows.append(W.HBox([name, btn], layout=SHARED.full))
    add_role = W.Dropdown(options=list(ROLES), description="Added by",
                          style=SHARED.style(_desc_style()), layout=W.Layout(width="220px"))
    add_text = W.Textarea(description="Addendum: what needs adding or correcting, and why",
                          style=SHARED.style(_text_style()), layout=W.Layout(width="100%"),
                          rows=3)
    add_btn = button("Add addendum", "plus")
    addendum_box = W.VBox([add_text, W.HBox([add_role, add_btn])], layout=W.Layout(),
                          _dom_classes=("sk-addendum",))
    save_app = button("Save the complete record", "floppy-o", "primary")
    file_line = html_widget("", "sk-file")

    def refresh(s: Any = None) -> None:
        s = s or wb.standing()
        st = s.state
        lines = [n for n in (hub_note(wb.info),) if n]
        lines += [f"{s.icon()} <b>{html.escape(s.headline())}.</b>",
                 f"{s.answered} of {s.total} questions answered."]
        for role in ROLES:
            sig = st.signed.get(role)
            lines.append(f"{role.capitalize()}: " + (
                f"signed by {html.escape(str(sig.get('name')))} at {html.escape(when(sig))} UTC"
                if sig else "not signed yet"))
        if st.locked:
            lines.append("Answers are read-only now; add an addendum below to change anything.")
        value = "<div role='status'>" + "<br>".join(lines) + "</div>"
        if state.value != value:
            state.value = value
        for b in sign_buttons:
            b.disabled = st.locked
        check.disabled = st.locked
        addendum_box.layout.display = None if st.locked else "none"

    def _sign(role: str, name: str) -> None:
        try:
            wb.flush()
            res = sign(wb.path, role, name)
            message.value = (f"<p class='sk-ok'>{icon('check')} Signed as {role}. "
                             f"{html.escape(res['waiting'] or 'The record is now locked.')}</p>")
            listing.value = ""
        except IncompleteError as exc:
            message.value = problem(f"not signed: {len(exc.missing)} required answer(s) are "
                                    "missing (listed above)")
            listing.value = missing_html(wb, exc.missing)
        except KitError as exc:
            message.value = problem(str(exc))
        wb.refresh_lock()
        refresh()

    def _add(_b: Any) -> None:
        try:
            add_addendum(wb.path, add_role.value, add_text.value)
            add_text.value = ""
            message.value = "Addendum added."
        except KitError as exc:
            message.value = problem(str(exc))
        refresh()

    def _save_in_app(_b: Any) -> None:
        from ..core.markers import open_in_kernel
        from ..record.finalize import finalize

        try:
            wb.flush()
            live = open_in_kernel(wb.path)
            if live and live.get("pid") != os.getpid():
                raise KitError("this workbook is also open somewhere else (a notebook or "
                               "another page); close it there first")
            res = finalize(wb.path, force=True)
            file_line.value = (f"<p class='sk-ok'>{icon('check')} Saved: the notebook file "
                               f"now holds all {res['answers']} answers and the sign-off.</p>")
        except KitError as exc:
            file_line.value = problem(str(exc))

    add_btn.on_click(_add)
    save_app.on_click(_save_in_app)
    refresh()
    wb.listeners.append(refresh)
    parts: list[W.Widget] = [state, check, listing, *sign_rows, message, addendum_box]
    if app_mode():
        parts += [save_app, file_line]
    panel = W.VBox(parts, layout=SHARED.full, _dom_classes=(OUT, "sk-finish"))
    ipd.display(panel)
    if not app_mode():
        ipd.display({"text/html": marked(save_button_html()),
                     "text/plain": "Save the notebook (File > Save Notebook) to keep every "
                                   "answer in it."}, raw=True)
        ipd.display(file_line)
        FileWatch(wb, file_line)
    return panel


def _text_style() -> type:
    from ipywidgets.widgets.widget_string import TextStyle

    return TextStyle


def _desc_style() -> type:
    from ipywidgets.widgets.widget_description import DescriptionStyle

    return DescriptionStyle


# ---------------------------------------------------------------- download and resume


def _link_html(name: str, data: bytes, folder: Path) -> str:
    """A one-click download: an ``<a download>`` styled as a button, holding the file as a
    data: URI; a very large workbook is saved into the folder instead."""
    if len(data) <= DATA_URI_LIMIT:
        b64 = base64.b64encode(data).decode("ascii")
        href = f"data:application/x-ipynb+json;base64,{b64}"
        return (f"<a class='sk-download' download='{html.escape(name)}' href='{href}'>"
                f"{icon('download')} Download my workbook</a> "
                "Keep the file: it holds all your answers.")
    target = make_private_dir(folder / "downloads") / name
    atomic_write(target, data)
    return (f"Your workbook is saved as <code>downloads/{html.escape(name)}</code>: "
            "right-click it in the file browser on the left and choose <b>Download</b>.")


def download(wb: Workbook) -> tuple[str, bytes]:
    """A finalized copy of the open workbook with every current answer: (file name, bytes).
    Pending keystrokes are saved first; the open .ipynb is never touched."""
    wb.flush()
    name, nb = download_copy(wb.path)
    return name, notebook_text(nb).encode("utf-8")


def restore(wb: Workbook, data: bytes, name: str = "upload") -> int:
    """Restore answers from a downloaded copy into the open workbook (through the append
    path) and show them; returns how many answers were restored."""
    from ..core.workbook import open_record

    wb.flush()
    values = answers_to_restore(open_record(wb.path), data, name)
    events = wb.session.save_now(values, "upload")
    wb.show_restored(events)
    return len(events)


class DownloadLink:
    """The download link, made up front and rebuilt shortly after each saved change, so one
    click always downloads the answers as saved."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self.widget = html_widget("", "sk-download-link")
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self.refresh()
        wb.listeners.append(lambda _s: self.soon())

    def refresh(self) -> None:
        with self._lock:
            try:
                name, data = download(self.wb)
                value = _link_html(name, data, self.wb.path.parent)
            except Exception as exc:  # noqa: BLE001 - shown to the participant, no traceback
                value = problem(str(exc))
            if self.widget.value != value:
                self.widget.value = value

    def soon(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(DOWNLOAD_REFRESH, self.refresh)
        self._timer.daemon = True
        self._timer.start()


def download_panel(wb: Workbook) -> None:
    """End of a workshop workbook: a one-click download of a finalized copy, and an upload
    that restores answers from such a copy."""
    link = DownloadLink(wb)
    upload = W.FileUpload(accept=".ipynb", multiple=False, description="Upload my earlier "
                          "workbook", layout=SHARED.fit)
    message = html_widget("", "sk-upload-message")

    def on_upload(change: dict[str, Any]) -> None:
        files = change.get("new") or ()
        if not files:
            return
        item = files[0]
        name = str(item.get("name", "upload"))
        try:
            n = restore(wb, bytes(item["content"]), name)
            message.value = (f"<p class='sk-ok'>{icon('check')} Restored {n} answer"
                             f"{'s' if n != 1 else ''} from {html.escape(name)}. They are "
                             "saved and shown above.</p>" if n else
                             f"<p>{html.escape(name)} holds no answers that differ from "
                             "this workbook's: nothing to restore.</p>")
            link.refresh()
        except Exception as exc:  # noqa: BLE001 - shown to the participant, no traceback
            message.value = problem(str(exc))
        finally:
            upload.value = ()

    upload.observe(on_upload, names="value")
    help_html = html_widget("<p><i>Starting again on a new server? Open your own workbook, run "
                            "all cells, then upload the file you downloaded last time.</i></p>")
    ipd.display(W.VBox([link.widget, help_html, upload, message], layout=SHARED.full,
                       _dom_classes=(OUT, "sk-download-panel")))


signoff_panel = finish_panel  # the name workbooks made before the finish panel call
