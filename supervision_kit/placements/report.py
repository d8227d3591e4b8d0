"""Placement reports: the evidence map (chart, table, gap list) and the supervised-hours log,
as terminal text, self-contained HTML (inline CSS, charts as data: PNGs, no scripts, no CDN)
and, for the hours log, a PDF with a signature page.

Everything that comes from answers or records (names, quotes, credentials, labels) is escaped
for where it is shown: ``html.escape`` in HTML, ``mpl_text`` in charts; the CLI passes text
through ``terminal_safe`` and CSV cells through ``csv_cell``.
"""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING, Any

from ..core.text import mpl_text
from .evidence import Evidence, gaps, summary
from .frameworks import Framework
from .hours import HoursLog

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

CSP = ("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'; img-src data:\">")
STYLE = """<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 60em; color: #222; line-height: 1.4; padding: 0 1em; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td.n { text-align: right; } .gap { color: #b00020; }
.zero { color: #bbb; } .note { color: #555; font-size: 0.9em; } img { max-width: 100%; }
.problem { color: #b00020; } blockquote { margin: 0.2em 0 0.8em 1em; color: #333;
  border-left: 3px solid #ccc; padding-left: 0.6em; white-space: pre-wrap; }
.signatures { page-break-before: always; } .line { border-bottom: 1px solid #333;
  height: 2.2em; margin-bottom: 0.3em; } .sig td { border: none; padding: 0.4em 1em 0.4em 0;
  width: 50%; }
@media print { body { margin: 0; max-width: none; } }
</style>"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def page(title: str, body: str) -> str:
    """A self-contained HTML page (inline CSS, scripts forbidden by its CSP)."""
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">{CSP}"
            f"<title>{_e(title)}</title>{STYLE}</head><body>\n{body}\n</body></html>\n")


def png_data_uri(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


# ---------------------------------------------------------------- evidence map


def evidence_figure(table: pd.DataFrame, fw: Framework, worker: str = "") -> Figure:
    """Competency × month heat map of evidence counts, the number in each cell, totals on
    the right; empty competencies stand out as gaps."""
    from matplotlib.figure import Figure

    months = [c for c in table.columns if c != "total"]
    rows = list(table.index)
    import textwrap

    fig = Figure(figsize=(max(9.0, 4.5 + 0.7 * len(months)), 0.42 * len(rows) + 2.0),
                 dpi=100, layout="constrained")
    ax = fig.add_subplot()
    who = f" — {worker}" if worker else ""
    fig.suptitle(mpl_text(f"Evidence per competency and month{who}"), x=0.01, ha="left",
                 fontsize=11)
    if months:
        data = table[months].to_numpy()
        top = max(1, int(data.max()))
        ax.imshow(data, aspect="auto", cmap="Greens", vmin=0, vmax=top * 1.25,
                  gid="evidence-map")
        for i in range(len(rows)):
            for j in range(len(months)):
                v = int(data[i, j])
                ax.text(j, i, str(v) if v else "·", ha="center", va="center", fontsize=8,
                        color="#fff" if v > top * 0.6 else "#000" if v else "#999")
        ax.set_xticks(range(len(months)), [mpl_text(m) for m in months], fontsize=8,
                      rotation=45 if len(months) > 6 else 0)
    else:
        ax.text(0.5, 0.5, "No evidence tagged yet", ha="center", va="center",
                transform=ax.transAxes, color="#666", gid="empty")
        ax.set_xticks([])
    labels = []
    for label, total in zip(rows, table["total"], strict=True):
        short = label if len(label) <= 48 else label[:47] + "…"
        labels.append(mpl_text(f"{short}  ({int(total)})"))
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    for tick, total in zip(ax.get_yticklabels(), table["total"], strict=True):
        if int(total) == 0:
            tick.set_color("#b00020")
    note = "\n".join(mpl_text(line) for line in textwrap.wrap(
        f"{fw.title} (v{fw.version}). Each cell counts the answers tagged to the competency (by "
        "the template or by hand) in that month's records; red labels: no evidence yet.", 120))
    fig.text(0.01, 0.005, note, fontsize=7, color="#444", ha="left", va="bottom", gid="formula")
    bottom = (0.25 + 0.12 * note.count("\n")) / fig.get_figheight()
    engine: Any = fig.get_layout_engine()
    engine.set(rect=(0, bottom, 1, 1 - bottom))
    return fig


def evidence_table_html(table: pd.DataFrame) -> str:
    months = [c for c in table.columns if c != "total"]
    head = "".join(f"<th>{_e(m)}</th>" for m in months)
    body = []
    for label, row in table.iterrows():
        cls = " class='gap'" if int(row["total"]) == 0 else ""
        cells = "".join(f"<td class='n{' zero' if not int(row[m]) else ''}'>{int(row[m])}</td>"
                        for m in months)
        body.append(f"<tr><td{cls}>{_e(label)}</td>{cells}<td class='n'><b>{int(row['total'])}"
                    f"</b></td></tr>")
    return (f"<table class='evidence-map'><tr><th>Competency</th>{head}<th>Total</th></tr>"
            + "".join(body) + "</table>")


def gaps_html(lines: list[str]) -> str:
    if not lines:
        return "<p>Every competency has evidence.</p>"
    return "<ul>" + "".join(f"<li class='gap'>{_e(g)}</li>" for g in lines) + "</ul>"


def evidence_html(worker: str, fw: Framework, items: list[Evidence], table: pd.DataFrame,
                  *, until: str = "", quotes: bool = True) -> str:
    """The evidence map as a self-contained page: chart, table, gap list, then (optionally)
    every item quoted under its competency."""
    fig = evidence_figure(table, fw, worker)
    upto = f" up to {_e(until)}" if until else ""
    parts = [f"<h1>Evidence map: {_e(worker)}</h1>",
             f"<p>{_e(fw.title)} (v{_e(fw.version)}), {len(items)} piece(s) of evidence{upto}."
             "</p>",
             f"<img alt='Evidence per competency and month' src='{png_data_uri(fig)}'>",
             "<h2>Competency × month</h2>", evidence_table_html(table),
             "<h2>Gaps</h2>", gaps_html(gaps(items, fw))]
    if quotes and items:
        parts.append("<h2>The evidence</h2>")
        for c in fw.competencies:
            mine = [e for e in items if e.competency == c.id]
            if not mine:
                continue
            parts.append(f"<h3>{_e(c.short)} ({len(mine)})</h3>")
            for e in mine:
                row = f", row {e.row}" if e.row else ""
                by = f" · tagged by {_e(e.by)}" if e.how == "tagged" and e.by else ""
                parts.append(f"<p><b>{_e(e.date)} · {_e(e.title)}"
                             f"{_e(' (case ' + e.case + ')') if e.case else ''}</b> · "
                             f"<i>{_e(e.label)}{_e(row)}</i>{by}</p>"
                             f"<blockquote>{_e(e.quote)}</blockquote>")
    return page(f"Evidence map: {worker}", "\n".join(parts))


def evidence_lines(worker: str, fw: Framework, items: list[Evidence], until: str = ""
                   ) -> list[str]:
    """The evidence map for a terminal: counts per competency, then the gap list."""
    upto = f" up to {until}" if until else ""
    out = [f"Evidence for {worker}: {fw.title} (v{fw.version}), {len(items)} item(s){upto}",
           ""]
    width = max(len(c.short[:60]) for c in fw.competencies)
    for r, c in zip(summary(items, fw), fw.competencies, strict=True):
        span = f"  {r['first']} .. {r['last']}" if r["count"] else ""
        out.append(f"{c.short[:60]:<{width}}  {r['count']:>3}{span}")
    out.append("")
    out += gaps(items, fw) or ["Every competency has evidence."]
    return out


# ---------------------------------------------------------------- hours log


def _h(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def hours_lines(log: HoursLog) -> list[str]:
    """The hours log for a terminal: one line per session, totals by kind, the checks."""
    req = log.requirement
    out = [f"Supervised hours: {log.worker}"
           + (f"  (requirement: {req['name']} v{req['version']}"
              + (", illustrative" if req["illustrative"] else "") + ")" if req else "")]
    if log.start:
        out.append(f"from {log.start}" + (f" to {log.end}" if log.end else "")
                   + f"; checked up to {log.until}")
    out.append("")
    out.append(f"{'date':<10}  {'min':>5}  {'kind':<10}  {'supervisor':<24}  "
               f"{'credential':<28}  {'total h':>7}  {'counted h':>9}")
    for s in log.sessions:
        out.append(f"{s.date:<10}  {_h(s.minutes) or '—':>5}  {s.kind:<10}  "
                   f"{s.supervisor[:24]:<24}  {(s.credential or '—')[:28]:<28}  "
                   f"{s.cumulative_hours:>7g}  {s.cumulative_counted:>9g}")
    out.append("")
    out.append(f"{'kind':<10}  {'sessions':>8}  {'hours':>6}  {'cap':>5}  {'counted':>7}")
    for k in log.kinds:
        out.append(f"{k.kind:<10}  {k.sessions:>8}  {k.hours:>6g}  {_h(k.cap) or '—':>5}  "
                   f"{k.counted:>7g}" + (f"  {k.note}" if k.note else ""))
    out.append(f"{'total':<10}  {len(log.sessions):>8}  {log.total_hours:>6g}  {'':>5}  "
               f"{log.counted_hours:>7g}")
    if log.required_hours is not None:
        out.append(f"required: {log.required_hours:g} h; counted {log.counted_hours:g} h; "
                   f"remaining {log.remaining_hours:g} h"
                   + ("  (met)" if log.met else ""))
    if log.checks:
        out += ["", *log.checks]
    if log.problems:
        out += ["", *[f"PROBLEM: {p}" for p in log.problems]]
    return out


HOURS_COLUMNS = ["date", "minutes", "hours", "kind", "supervisor", "credential", "cases",
                 "records", "cumulative_hours", "cumulative_counted"]


def hours_rows(log: HoursLog) -> list[list[Any]]:
    return [[s.date, s.minutes, s.hours, s.kind, s.supervisor, s.credential, s.cases,
             len(s.records), s.cumulative_hours, s.cumulative_counted] for s in log.sessions]


def hours_html(log: HoursLog) -> str:
    """The hours log as a page for a board or university: sessions, totals, checks, and a
    signature page (supervisor, worker, and the receiving body)."""
    req = log.requirement
    parts = [f"<h1>Supervised hours log: {_e(log.worker)}</h1>"]
    if req:
        flag = (" <b>This requirement is an illustrative example, not a real rule.</b>"
                if req["illustrative"] else "")
        parts.append(f"<p>Checked against <b>{_e(req['title'])}</b> ({_e(req['name'])} "
                     f"v{_e(req['version'])}).{flag}</p><p class='note'>{_e(req['note'])}</p>")
    if log.start:
        parts.append(f"<p>Period: from {_e(log.start)}"
                     + (f" to {_e(log.end)}" if log.end else "")
                     + f"; checked up to {_e(log.until)}.</p>")
    head = ("<tr><th>Date</th><th>Minutes</th><th>Kind</th><th>Supervisor</th>"
            "<th>Credential</th><th>Cases</th><th>Total h</th><th>Counted h</th></tr>")
    rows = "".join(
        f"<tr><td>{_e(s.date)}</td><td class='n'>{_e(_h(s.minutes) or '—')}</td>"
        f"<td>{_e(s.kind)}</td><td>{_e(s.supervisor)}</td><td>{_e(s.credential or '—')}</td>"
        f"<td class='n'>{s.cases}</td><td class='n'>{s.cumulative_hours:g}</td>"
        f"<td class='n'>{s.cumulative_counted:g}</td></tr>" for s in log.sessions)
    parts += ["<h2>Sessions</h2>", f"<table>{head}{rows}</table>"]
    krows = "".join(
        f"<tr><td>{_e(k.kind)}</td><td class='n'>{k.sessions}</td><td class='n'>{k.hours:g}</td>"
        f"<td class='n'>{_e(_h(k.cap) or '—')}</td><td class='n'>{k.counted:g}</td>"
        f"<td>{_e(k.note)}</td></tr>" for k in log.kinds)
    parts += ["<h2>Totals</h2>",
              "<table><tr><th>Kind</th><th>Sessions</th><th>Hours</th><th>Cap (h)</th>"
              f"<th>Counted</th><th>Note</th></tr>{krows}"
              f"<tr><th>Total</th><th class='n'>{len(log.sessions)}</th>"
              f"<th class='n'>{log.total_hours:g}</th><th></th>"
              f"<th class='n'>{log.counted_hours:g}</th><th></th></tr></table>"]
    if log.required_hours is not None:
        parts.append(f"<p><b>Required:</b> {log.required_hours:g} h · <b>counted:</b> "
                     f"{log.counted_hours:g} h · <b>remaining:</b> {log.remaining_hours:g} h"
                     + (" · met" if log.met else "") + "</p>")
    if log.checks:
        parts += ["<h2>Checks</h2>", "<ul>" + "".join(f"<li>{_e(c)}</li>" for c in log.checks)
                  + "</ul>"]
    if log.problems:
        parts += ["<ul>" + "".join(f"<li class='problem'>{_e(p)}</li>" for p in log.problems)
                  + "</ul>"]
    supervisors = list(dict.fromkeys(s.supervisor for s in log.sessions)) or [""]
    sig = ["<div class='signatures'><h2>Signatures</h2>",
           "<p>I confirm that the supervision listed above took place as recorded.</p>",
           "<table class='sig'>"]
    for who, role in [(log.worker, "Supervisee (student or worker)"),
                      *((s, "Supervisor") for s in supervisors)]:
        cred = next((x.credential for x in log.sessions if x.supervisor == who and who), "")
        sig.append(f"<tr><td><div class='line'></div>{_e(role)}: {_e(who)}"
                   + (f"<br><small>{_e(cred)}</small>" if cred else "")
                   + "</td><td><div class='line'></div>Date</td></tr>")
    sig.append("<tr><td><div class='line'></div>Received for the board or university "
               "(name and role)</td><td><div class='line'></div>Date</td></tr></table>")
    sig.append("<p class='note'>Made by supervision-kit from the supervision records. Each "
               "session is one record (or several records of one meeting), counted once.</p>"
               "</div>")
    parts += sig
    return page(f"Supervised hours log: {log.worker}", "\n".join(parts))
