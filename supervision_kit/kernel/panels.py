"""Panels the workbook's hidden cells show: progress charts, sign-off, download and resume.

They talk to the ``Workbook`` form's small public interface (path, info, flush, answers,
refresh_lock, show_restored) and to the feature functions; none reaches into the core.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any, Protocol

import ipywidgets as W
from IPython import display as ipd

from ..core.errors import KitError
from ..core.notebook import notebook_text
from ..core.state import ROLES, RecordState
from ..core.store import atomic_write, make_private_dir
from ..progress import measures as P
from ..progress.charts import png, review_figures, review_tables_html, strip_chart
from ..signoff import add_addendum, sign
from ..signoff.embed import when
from ..workshop.resume import DATA_URI_LIMIT, answers_to_restore, download_copy
from .session import Session


class Workbook(Protocol):
    """What a panel needs of the open workbook (kernel/form.py's ``Workbook``)."""

    path: Path
    info: dict[str, Any]
    session: Session

    def flush(self) -> None: ...
    def refresh_lock(self) -> RecordState: ...
    def show_restored(self, events: list[dict[str, Any]]) -> None: ...


ERROR = "<span style='color:#b00020'>Problem: {}</span>"


def _show(fig: Any) -> None:
    ipd.display(ipd.Image(data=png(fig), format="png"))


def _html(text: str) -> None:
    ipd.display(ipd.HTML(text))


def _store_of(wb: Workbook) -> Path:
    return Path(wb.info.get("store") or Path(wb.path).parent.parent)


def progress_strip(wb: Workbook) -> None:
    """Top of a session workbook: a small strip of this case's earlier sessions, if any."""
    from ..table.index import load_store

    case = wb.info.get("case_id")
    date = str(wb.info.get("session_date") or "")
    try:
        df = load_store(_store_of(wb), case=case, progress=False)
    except Exception as exc:  # noqa: BLE001 - a chart must never stop the workbook opening
        _html(f"<p><i>Progress strip unavailable: {html.escape(str(exc))}</i></p>")
        return
    import pandas as pd

    here = str(Path(wb.path).resolve())
    when_ = pd.Timestamp(date) if date else pd.Timestamp.max
    keep = ((df["record"] == P.SESSION) & (df["date"] < when_)
            & (df["path"].map(lambda p: str(Path(p).resolve())) != here))
    earlier = df[keep]
    n = earlier["path"].nunique()
    if n == 0:
        _html("<p><i>No earlier sessions for this case yet: a progress strip appears here "
              "from the second session.</i></p>")
        return
    first = earlier["date"].min().strftime("%d %b %Y")
    _html(f"<p><b>Progress so far</b>: {n} earlier session{'s' if n != 1 else ''} since "
          f"{html.escape(first)}. Run <code>supervision-kit progress --case "
          f"{html.escape(str(case))}</code> for the full review.</p>")
    _show(strip_chart(earlier, case))


def progress_review(wb: Workbook) -> None:
    """The progress template: every chart for the case, then goals and actions with status."""
    from ..table.index import load_store

    case = wb.info.get("case_id")
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


def hub_note(info: dict[str, Any]) -> str:
    """On JupyterHub: which role the signed-in account may sign (signoff.identity)."""
    from ..signoff.identity import account_for, hub_user

    user = hub_user()
    if not user:
        return ""
    mine = [r for r in ROLES if account_for(info, r) == user]
    what = f"you can sign as the {mine[0]}" if mine else "you cannot sign this record"
    return f"<i>Signed in to the hub as <b>{html.escape(user)}</b>: {what}.</i>"


def signoff_panel(wb: Workbook) -> Any:
    """Sign buttons for each role, the record's state, and addenda once locked."""
    status = W.HTML()
    message = W.HTML()
    buttons: list[Any] = []
    rows = []
    for role in ROLES:
        name = W.Text(value=str(wb.info.get(role, "")), placeholder=f"{role}'s name or initials",
                      description=f"{role.capitalize()}'s name", layout=W.Layout(width="360px"))
        btn = W.Button(description=f"Sign as {role}", icon="check", button_style="success",
                       layout=W.Layout(width="200px"))
        btn.on_click(lambda _b, role=role, name=name: _click(role, name.value))
        buttons.append(btn)
        rows.append(W.HBox([name, btn]))
    add_role = W.Dropdown(options=list(ROLES), description="Added by",
                          layout=W.Layout(width="220px"))
    add_text = W.Textarea(placeholder="Addendum: what needs adding or correcting, and why",
                          description="Addendum", layout=W.Layout(width="100%"), rows=3)
    add_btn = W.Button(description="Add addendum", icon="plus")
    addendum_box = W.VBox([add_text, W.HBox([add_role, add_btn])])

    def refresh() -> None:
        state = wb.refresh_lock()
        parts = [n for n in (hub_note(wb.info),) if n]
        for role in ROLES:
            s = state.signed.get(role)
            parts.append(f"<b>{role.capitalize()}</b>: " + (
                f"signed by {html.escape(str(s.get('name')))} at {html.escape(when(s))} UTC"
                if s else "not signed yet"))
        if state.locked:
            parts.append("<b>The record is locked.</b> Answers are read-only; add an addendum "
                         "below to change anything.")
        status.value = "<br>".join(parts)
        for b in buttons:
            b.disabled = state.locked
        addendum_box.layout.display = None if state.locked else "none"

    def _click(role: str, name: str) -> None:
        try:
            wb.flush()
            res = sign(wb.path, role, name)
            message.value = html.escape(f"Signed as {role}. " + (res["waiting"] or ""))
        except KitError as exc:
            message.value = ERROR.format(html.escape(str(exc)))
        refresh()

    def _add(_b: Any) -> None:
        try:
            add_addendum(wb.path, add_role.value, add_text.value)
            add_text.value = ""
            message.value = "Addendum added."
        except KitError as exc:
            message.value = ERROR.format(html.escape(str(exc)))
        refresh()

    add_btn.on_click(_add)
    refresh()
    panel = W.VBox([W.HTML("<h3>Sign-off</h3>"), *rows, status, addendum_box, message])
    ipd.display(panel)
    return panel


def _link_html(name: str, data: bytes, folder: Path) -> str:
    """A download link: a data: URI for normal sizes, else a file saved in the folder."""
    if len(data) <= DATA_URI_LIMIT:
        b64 = base64.b64encode(data).decode("ascii")
        href = f"data:application/x-ipynb+json;base64,{b64}"
        return (f"<a download='{html.escape(name)}' href='{href}' style='font-weight:bold'>"
                f"Save {html.escape(name)}</a> — keep this file; it holds all your answers.")
    target = make_private_dir(folder / "downloads") / name
    atomic_write(target, data)
    return (f"Saved as <code>downloads/{html.escape(name)}</code>: right-click it in the file "
            "browser on the left and choose <b>Download</b>.")


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


def download_panel(wb: Workbook) -> None:
    """Buttons at the end of a workshop workbook: download a finalized copy, upload to resume."""
    button = W.Button(description="Download my workbook", icon="download",
                      button_style="primary", layout=W.Layout(width="auto"))
    link = W.HTML()
    upload = W.FileUpload(accept=".ipynb", multiple=False,
                          description="Upload my earlier workbook", layout=W.Layout(width="auto"))
    message = W.HTML()

    def on_download(_b: Any) -> None:
        try:
            name, data = download(wb)
            link.value = _link_html(name, data, wb.path.parent)
        except Exception as exc:  # noqa: BLE001 - shown to the participant, never a traceback
            link.value = ERROR.format(html.escape(str(exc)))

    def on_upload(change: dict[str, Any]) -> None:
        files = change.get("new") or ()
        if not files:
            return
        item = files[0]
        name = str(item.get("name", "upload"))
        try:
            n = restore(wb, bytes(item["content"]), name)
            message.value = (f"Restored {n} answer(s) from {html.escape(name)}. "
                             "They are saved and shown above.")
        except Exception as exc:  # noqa: BLE001 - shown to the participant, never a traceback
            message.value = ERROR.format(html.escape(str(exc)))
        finally:
            upload.value = ()

    button.on_click(on_download)
    upload.observe(on_upload, names="value")
    help_html = W.HTML("<i>Starting again on a new server? Open your own workbook, run all "
                       "cells, then upload the file you downloaded last time.</i>")
    ipd.display(W.VBox([W.HBox([button, link]), help_html, upload, message]))
