"""The review panel a workbook shows above its sign-off: where the record stands (draft,
submitted, returned, signed), the comments on it, the evidence tags, and buttons to hand it
in, return it, comment and tag. Every action goes through ``placements.review`` (and so the
one append path); everything shown from answers and journals is escaped.

Template cells call ``review_panel(wb)`` with the open workbook (kernel/form.py's
``Workbook``); the panel needs only its path, info, prompts, ``flush`` and ``refresh_lock``.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W
from IPython import display as ipd

from ..core.errors import KitError
from ..core.prompts import is_answered
from ..core.review import DRAFT, RETURNED, SIGNED, SUBMITTED
from ..core.workbook import Record, open_record
from ..placements import review as R
from .panels import Workbook, problem

COLORS = {DRAFT: "#555", SUBMITTED: "#1f6fb2", RETURNED: "#b35c00", SIGNED: "#2e7d32"}


def _when(ev: dict[str, Any]) -> str:
    return html.escape(str(ev.get("t", ""))[:16].replace("T", " ")) + " UTC"


def _who(ev: dict[str, Any]) -> str:
    name = str(ev.get("name") or "")
    role = str(ev.get("role") or ev.get("by") or "")
    return html.escape(f"{name} ({role})" if name else role)


def _text(value: Any) -> str:
    return html.escape(str(value or "")).replace("\n", "<br>")


def _where(rec: Record, ev: dict[str, Any]) -> str:
    pid = str(ev.get("id", ""))
    label = str(rec.prompts.get(pid, {}).get("label", pid))
    row = f", row {ev['row']}" if isinstance(ev.get("row"), int) else ""
    return f"<i>{html.escape(label)}{html.escape(row)}</i>"


def status_html(rec: Record) -> str:
    """The record's review state, returns, comments, tags and countersignatures as HTML."""
    st = rec.review
    color = COLORS.get(st.state, "#555")
    parts = [f"<p><b>Review:</b> <span style='color:{color};font-weight:bold'>"
             f"{html.escape(st.describe())}</span></p>"]
    if st.state == RETURNED and st.returns:
        ev = st.returns[-1]
        parts.append(f"<p>Returned for revision {_when(ev)} by {_who(ev)}:<br>"
                     f"<q>{_text(ev.get('text'))}</q></p>")
    if st.comments:
        items = "".join(f"<li>{_where(rec, ev)}: {_text(ev.get('text'))} "
                        f"<small>— {_who(ev)}, {_when(ev)}</small></li>" for ev in st.comments)
        parts.append(f"<p><b>Comments</b></p><ul>{items}</ul>")
    if st.tags:
        items = "".join(
            f"<li>{_where(rec, ev)} → "
            f"{html.escape(', '.join(map(str, ev.get('competencies') or [])))} "
            f"<small>— {_who(ev)}</small></li>" for ev in st.tags.values())
        parts.append(f"<p><b>Evidence tags</b></p><ul>{items}</ul>")
    for ev in st.countersignatures:
        parts.append(f"<p>Countersigned by {_who(ev)} {_when(ev)}.</p>")
    return "".join(parts)


def _choices(rec: Record, answered_only: bool) -> list[tuple[str, str]]:
    out = []
    for pid, p in rec.prompts.items():
        if answered_only and (p.get("private") or not is_answered(rec.answers.get(pid))):
            continue
        label = str(p.get("label", pid))
        out.append((f"{label[:70]}{'…' if len(label) > 70 else ''} [{pid}]", pid))
    return out


def review_panel(wb: Workbook) -> Any:
    """Show the review panel for the open workbook (see the module docstring)."""
    status, message = W.HTML(), W.HTML()
    note = W.Textarea(placeholder="A note for the practice educator (optional when handing "
                      "in; the reason when returning)", layout=W.Layout(width="100%"), rows=2)
    submit_btn = W.Button(description="Hand in for review", icon="paper-plane",
                          button_style="primary", layout=W.Layout(width="auto"))
    return_btn = W.Button(description="Return for revision", icon="undo",
                          layout=W.Layout(width="auto"))
    moves = W.VBox([note, W.HBox([submit_btn, return_btn])])

    c_prompt = W.Dropdown(description="On", layout=W.Layout(width="100%"))
    c_row = W.BoundedIntText(value=0, min=0, max=10_000, description="Row (0: all)",
                             layout=W.Layout(width="200px"))
    c_role = W.Dropdown(options=list(R.ROLES), value="supervisor", description="By",
                        layout=W.Layout(width="220px"))
    c_text = W.Textarea(placeholder="Your comment", layout=W.Layout(width="100%"), rows=2)
    c_btn = W.Button(description="Add comment", icon="comment", layout=W.Layout(width="auto"))
    comments = W.VBox([W.HTML("<b>Comment on an answer</b>"), c_prompt,
                       W.HBox([c_row, c_role, c_btn]), c_text])

    t_prompt = W.Dropdown(description="Answer", layout=W.Layout(width="100%"))
    t_row = W.BoundedIntText(value=0, min=0, max=10_000, description="Row (0: all)",
                             layout=W.Layout(width="200px"))
    t_comps = W.SelectMultiple(description="Evidence for", rows=6,
                               layout=W.Layout(width="100%"))
    t_btn = W.Button(description="Tag as evidence", icon="tag", layout=W.Layout(width="auto"))
    tags = W.VBox([W.HTML("<b>Tag an answer as evidence</b> (choose none to remove a tag)"),
                   t_prompt, t_comps, W.HBox([t_row, t_btn])])

    def refresh() -> Record:
        wb.refresh_lock()
        rec = open_record(wb.path)
        status.value = status_html(rec)
        locked = rec.locked
        moves.layout.display = comments.layout.display = "none" if locked else None
        submit_btn.disabled = rec.review.state == SUBMITTED and not rec.review.changed_since_submit
        return_btn.disabled = rec.review.state != SUBMITTED
        c_prompt.options = _choices(rec, answered_only=False)
        t_prompt.options = _choices(rec, answered_only=True)
        try:
            fw = R.framework_for(rec)
            t_comps.options = [(f"{c.short}", fw.qualified(c.id)) for c in fw.competencies]
            tags.layout.display = None
        except KitError:
            tags.layout.display = "none"
        return rec

    def act(fn: Any, done: str) -> None:
        try:
            wb.flush()
            fn()
            message.value = html.escape(done)
        except KitError as exc:
            message.value = problem(str(exc))
        refresh()

    submit_btn.on_click(lambda _b: act(lambda: R.submit(wb.path, text=note.value or None),
                                       "Handed in for review."))
    return_btn.on_click(lambda _b: act(lambda: R.return_for_revision(wb.path, note.value),
                                       "Returned for revision."))
    c_btn.on_click(lambda _b: act(lambda: R.comment(wb.path, c_prompt.value, c_text.value,
                                                    role=c_role.value, row=c_row.value or None),
                                  "Comment added."))
    t_btn.on_click(lambda _b: act(lambda: R.tag(wb.path, t_prompt.value, list(t_comps.value),
                                                row=t_row.value or None),
                                  "Evidence tags saved."))
    try:
        refresh()
    except KitError as exc:
        status.value = problem(str(exc))
    panel = W.VBox([W.HTML("<h3>Review and evidence</h3>"), status, moves, comments, tags,
                    message])
    ipd.display(panel)
    return panel
