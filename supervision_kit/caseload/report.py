"""The caseload as a page: a styled table (pandas Styler, every cell HTML-escaped) and a few
charts, as a static HTML file (no scripts: the page forbids them), as notebook output
(``show``, used by the generated caseload notebook, which Voila can serve), or as text/CSV."""

from __future__ import annotations

import base64
import datetime as dt
import html
import os
from collections import Counter
from pathlib import Path
from typing import Any

from ..core.store import atomic_write, no_symlink
from ..core.text import mpl_text
from ..progress.charts import png
from .api import Caseload, load_caseload
from .view import SHOWN, frame

CSP = ("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'; img-src data:\">")
MAX_BARS = 60  # charts show the supervisees who need most attention, up to this many
HEADINGS = {
    "supervisee": "Supervisee", "account": "Hub account", "supervisor": "Supervisor",
    "sessions": "Sessions", "last_session": "Last session", "next_due": "Next due",
    "days_to_due": "Days to due", "unsigned": "Unsigned", "incomplete": "Incomplete",
    "safeguarding_open": "Safeguarding open", "actions_past_due": "Actions past due",
    "agreement": "Agreement", "hours": "Hours", "hours_required": "Hours required",
    "hours_basis": "Hours basis", "attention": "Attention", "notes": "What needs doing",
}


def _styled_table(cl: Caseload) -> str:
    df = frame(cl.rows)[SHOWN]

    def red(v: Any) -> str:
        return "background-color:#f8d0d0;font-weight:bold" if isinstance(v, int) and v < 0 \
            else ""

    def amber(v: Any) -> str:
        return "background-color:#fde3b5" if isinstance(v, int | float) and v > 0 else ""

    styler = (df.style.format(escape="html", na_rep="", precision=1)
              .format(escape="html", na_rep="", precision=1, subset=["hours", "hours_required"])
              .hide(axis="index")
              .map(red, subset=["days_to_due"])
              .map(amber, subset=["unsigned", "incomplete", "safeguarding_open",
                                  "actions_past_due", "attention"])
              .relabel_index([HEADINGS[c] for c in SHOWN], axis="columns")
              .set_table_attributes('class="caseload"'))
    return styler.to_html()


def _bars(ax: Any, labels: list[str], values: list[float], colors: list[str]) -> None:
    ax.barh(range(len(values)), values, color=colors)
    ax.set_yticks(range(len(values)), [mpl_text(x) for x in labels], fontsize=7)
    ax.invert_yaxis()


def figures(cl: Caseload) -> list[Any]:
    """Due dates, what needs doing, and sessions per month across the programme."""
    from matplotlib.figure import Figure

    rows = cl.rows[:MAX_BARS]
    figs = []
    height = 1.2 + 0.18 * max(1, len(rows))
    fig = Figure(figsize=(8, height), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(f"Days until the next session is due ({cl.standard.label})", fontsize=9,
                 loc="left")
    if rows:
        days = [r["days_to_due"] for r in rows]
        _bars(ax, [r["supervisee"] for r in rows], days,
              ["#c0392b" if d < 0 else "#2e86c1" for d in days])
        ax.axvline(0, color="#333", lw=0.8)
        ax.set_xlabel("days (negative = overdue)", fontsize=8)
    figs.append(fig)

    fig = Figure(figsize=(8, height), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title("What needs doing, per supervisee", fontsize=9, loc="left")
    left = [0.0] * len(rows)
    for col, label, color in (("safeguarding_open", "safeguarding open", "#c0392b"),
                              ("actions_past_due", "actions past due", "#e67e22"),
                              ("unsigned", "records not signed", "#f1c40f"),
                              ("incomplete", "of which incomplete", "#95a5a6")):
        vals = [float(r[col]) for r in rows]
        ax.barh(range(len(rows)), vals, left=left, color=color, label=label)
        left = [a + b for a, b in zip(left, vals, strict=True)]
    ax.set_yticks(range(len(rows)), [mpl_text(r["supervisee"]) for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.legend(fontsize=7, loc="lower right")
    figs.append(fig)

    names = {r["supervisee"] for r in cl.rows}
    months = Counter(s["date"][:7] for s in cl.summaries
                     if s["kind"] == "session" and s["worker"] in names
                     and s["date"] and s["date"] <= cl.today.isoformat()
                     and (not cl.supervisor or cl.supervisor in (s["supervisor"],
                                                                 s.get("supervisor_user"))))
    fig = Figure(figsize=(8, 2.6), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title("Supervision sessions per month, all supervisees", fontsize=9, loc="left")
    keys = sorted(months)[-24:]
    ax.bar(range(len(keys)), [months[k] for k in keys], color="#2e86c1")
    ax.set_xticks(range(len(keys)), keys, rotation=60, fontsize=7)
    figs.append(fig)
    return figs


def _img(fig: Any, alt: str) -> str:
    b64 = base64.b64encode(png(fig)).decode("ascii")
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{b64}'>"


def body_html(cl: Caseload) -> str:
    """The table and charts as an HTML fragment (for notebooks and the page)."""
    who = f" of {html.escape(cl.supervisor)}" if cl.supervisor else ""
    parts = [f"<h2>Caseload{who}: {len(cl.rows)} supervisee(s) on "
             f"{cl.today.isoformat()}</h2>",
             f"<p>Standard: {html.escape(cl.standard.label)}. Sorted by what needs doing "
             "(overdue sessions and open safeguarding concerns count double). Names are "
             "as the records give them; case ids are pseudonyms.</p>",
             _styled_table(cl)]
    if cl.skipped:
        parts.append(f"<p><i>{len(cl.skipped)} file(s) could not be read and were "
                     "skipped.</i></p>")
    alts = ["Days until next session", "What needs doing", "Sessions per month"]
    parts += [_img(f, a) for f, a in zip(figures(cl), alts, strict=True)]
    return "\n".join(parts)


PAGE_STYLE = ("body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}"
              "table.caseload{border-collapse:collapse;font-size:0.8em}"
              "table.caseload th,table.caseload td{border:1px solid #ccc;padding:3px 6px;"
              "text-align:left;vertical-align:top;white-space:nowrap}"
              "table.caseload td:last-child{white-space:normal;min-width:24em}"
              "img{display:block;margin:1em 0;max-width:100%}")


def write_html(cl: Caseload, out: str | os.PathLike[str]) -> Path:
    """A self-contained page (0600; it names people and their records)."""
    path = Path(out)
    no_symlink(path, "output file")
    page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>{CSP}"
            f"<title>Caseload {cl.today.isoformat()}</title><style>{PAGE_STYLE}</style>"
            f"</head><body>{body_html(cl)}</body></html>\n")
    atomic_write(path, page)
    return path


def text_table(cl: Caseload) -> str:
    cols = ["supervisee", "sessions", "last_session", "next_due", "days_to_due", "unsigned",
            "incomplete", "safeguarding_open", "actions_past_due", "agreement", "hours"]
    df = frame(cl.rows)[cols]
    if df.empty:
        return "no supervisees found"
    return df.to_string(index=False)


def show(stores: list[str], **kw: Any) -> Caseload:
    """In a notebook (or Voila): load the caseload and display it."""
    from IPython.display import HTML, display

    cl = load_caseload(stores, **kw)
    display(HTML(f"<style>{PAGE_STYLE.replace('body{', '.sk-none{')}</style>" + body_html(cl)))
    return cl


def notebook(stores: list[str], *, supervisor: str | None = None,
             options: dict[str, Any] | None = None) -> dict[str, Any]:
    """A small notebook that shows the caseload when run (code hidden; Voila-ready)."""
    import json

    args = {"supervisor": supervisor, **(options or {})}
    args = {k: v for k, v in args.items() if v not in (None, [], "")}
    code = ("# Shows the caseload of the stores below; re-run to refresh (it takes a moment "
            "only for what changed).\n"
            "from supervision_kit.caseload.report import show\n"
            f"caseload = show({json.dumps([str(s) for s in stores])}, "
            + ", ".join(f"{k}={json.dumps(v)}" for k, v in args.items()) + ")\n")
    return {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"},
                     "language_info": {"name": "python"},
                     "supervision_kit_view": {"view": "caseload",
                                              "created": dt.datetime.now(dt.UTC).isoformat()}},
        "cells": [
            {"cell_type": "markdown", "id": "intro", "metadata": {}, "source":
             "# Caseload\n\nEvery supervisee: last session and next due, records not signed "
             "or incomplete, open safeguarding concerns, actions past due, the supervision "
             "agreement and hours. Choose **Run ▸ Run All Cells** (or open this notebook with "
             "Voila) to see it as of today."},
            {"cell_type": "code", "id": "caseload", "execution_count": None, "outputs": [],
             "metadata": {"jupyter": {"source_hidden": True}, "tags": ["caseload"]},
             "source": code},
        ],
    }


def write_notebook_view(out: str | os.PathLike[str], stores: list[str], **kw: Any) -> Path:
    from ..core.notebook import write_notebook

    path = Path(out)
    if path.suffix != ".ipynb":
        from ..core.errors import InputError

        raise InputError(f"--notebook must end in .ipynb, got {path.name}")
    return write_notebook(path, notebook([str(Path(s).resolve()) for s in stores], **kw))
