"""Progress charts as matplotlib ``Figure`` objects (no pyplot, so no global figure state).

Every chart prints its formula or definition beneath the plot and copes with 0 or 1
session. ``progress_strip`` and ``progress_review`` are the kernel hooks the session and
progress templates call (through ``wb.progress_strip()`` / ``wb.progress_review()``).
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Any

from ..core.text import mpl_text
from . import measures as P

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

SELF, SUP = "#1f6fb2", "#d9822b"
NOTE_SIZE = 8

GAS_NOTE = (f"Goal Attainment Scaling: {P.GAS_FORMULA}, ρ = 0.3, weights wᵢ default 1. "
            "Each goal xᵢ is scored −2…+2; T = 50 means goals met as expected.")
GOALS_NOTE = ("Each goal's attainment score at each review: −2 much less than expected, "
              "0 expected level, +2 much more than expected.")
RATINGS_NOTE = ("Ratings 1–5 against behaviour anchors; solid = worker's self-rating, "
                "dashed = supervisor's rating (where given).")
FREQ_NOTE = "Supervision per calendar month (several workbooks on one day = one session). "


def _figure(width: float = 8.0, height: float = 3.6) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _note(fig: Figure, text: str) -> None:
    """The formula/definition line under the plot."""
    import textwrap

    wrapped = "\n".join(textwrap.wrap(text, 120))
    bottom = (0.22 + 0.16 * wrapped.count("\n")) / fig.get_figheight()  # inches -> fraction
    engine: Any = fig.get_layout_engine()
    engine.set(rect=(0, bottom, 1, 1 - bottom))  # (left, bottom, w, h)
    fig.text(0.01, 0.01, wrapped, fontsize=NOTE_SIZE, ha="left", va="bottom", color="#444",
             gid="formula")


def _empty(ax: Any, what: str) -> None:
    ax.text(0.5, 0.5, what, ha="center", va="center", transform=ax.transAxes, color="#666",
            gid="empty")
    ax.set_xticks([])
    ax.set_yticks([])


def _dates(ax: Any, dates: list[Any]) -> None:
    """Date axis; a single session gets a readable window around it."""
    import datetime as dt

    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=2, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if len(set(dates)) == 1:
        d = dates[0]
        ax.set_xlim(d - dt.timedelta(days=15), d + dt.timedelta(days=15))
        ax.set_xticks([d])
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %Y"))


def _py_dates(values: Any) -> list[Any]:
    return [v.to_pydatetime() if hasattr(v, "to_pydatetime") else v for v in values]


# ---------------------------------------------------------------- charts


def gas_chart(gas: pd.DataFrame, *, title: str = "Goal attainment (GAS T-score)") -> Figure:
    """T-score per session with the 50 ('as expected') line."""
    fig = _figure()
    ax = fig.add_subplot()
    ax.set_title(title, loc="left", fontsize=11)
    ax.axhline(50, color="#888", lw=1, ls="--", gid="t50", label="50 = as expected")
    if gas.empty:
        ax.text(0.5, 0.75, "No goals have been scored yet", ha="center", transform=ax.transAxes,
                color="#666", gid="empty")
        ax.set_ylim(20, 80)
    else:
        x = _py_dates(gas["date"])
        ax.plot(x, list(gas["t_score"]), marker="o", color=SELF, gid="gas", label="T-score")
        for xi, yi, n in zip(x, gas["t_score"], gas["goals"], strict=True):
            ax.annotate(f"{yi:.0f} ({n} goal{'s' if n != 1 else ''})", (xi, yi),
                        textcoords="offset points", xytext=(0, 7), ha="center", fontsize=7)
        lo, hi = min(gas["t_score"].min(), 40), max(gas["t_score"].max(), 60)
        ax.set_ylim(lo - 5, hi + 5)
        _dates(ax, x)
    ax.set_ylabel("T")
    ax.legend(loc="lower right", fontsize=7)
    _note(fig, GAS_NOTE)
    return fig


def goals_chart(goals: pd.DataFrame, *, title: str = "Attainment goal by goal") -> Figure:
    """One line per goal: its score (−2…+2) at each review."""
    fig = _figure()
    ax = fig.add_subplot()
    ax.set_title(title, loc="left", fontsize=11)
    if goals.empty:
        _empty(ax, "No goals have been scored yet")
    else:
        for n, (name, g) in enumerate(goals.groupby("goal", sort=False), 1):
            x = _py_dates(g["date"])
            label = mpl_text(f"G{n}: {name[:50]}{'…' if len(name) > 50 else ''}")
            ax.plot(x, list(g["score"]), marker="o", gid=f"goal-{n}", label=label)
        ax.axhline(0, color="#888", lw=1, ls="--", gid="expected")
        ax.set_ylim(-2.4, 2.4)
        ax.set_yticks([-2, -1, 0, 1, 2])
        ax.set_ylabel("Attainment")
        _dates(ax, _py_dates(goals["date"]))
        ax.legend(loc="upper left", fontsize=7, bbox_to_anchor=(1.01, 1))
    _note(fig, GOALS_NOTE)
    return fig


def ratings_chart(rates: pd.DataFrame, group: str, *, title: str | None = None) -> Figure:
    """Ratings over time for one group: one panel per item, self solid, supervisor dashed."""
    rows = rates[rates["group"] == group] if not rates.empty else rates
    items = list(dict.fromkeys(rows["item"])) if not rows.empty else []
    cols = min(5, max(1, len(items)))
    nrows = max(1, math.ceil(len(items) / cols))
    fig = _figure(10, 1.9 * nrows + 1.2)
    fig.suptitle(mpl_text(title or f"{group} ratings over time"), x=0.01, ha="left",
                 fontsize=11)
    if not items:
        _empty(fig.add_subplot(), mpl_text(f"No {group} ratings yet"))
    for n, item in enumerate(items, 1):
        ax = fig.add_subplot(nrows, cols, n)
        ax.set_title(mpl_text(item.replace("_", " ")), fontsize=9)
        for rater, color, ls in (("self", SELF, "-"), ("supervisor", SUP, "--")):
            r = rows[(rows["item"] == item) & (rows["rater"] == rater)]
            if not r.empty:
                ax.plot(_py_dates(r["date"]), list(r["rating"]), marker="o", ls=ls, color=color,
                        gid=f"{item}-{rater}", label=rater)
        ax.set_ylim(0.5, 5.5)
        ax.set_yticks([1, 2, 3, 4, 5])
        ax.tick_params(labelsize=7)
        _dates(ax, _py_dates(rows.loc[rows["item"] == item, "date"]))
        if n == 1:
            ax.legend(fontsize=7, loc="lower right")
    _note(fig, RATINGS_NOTE)
    return fig


def outcome_chart(
    outs: pd.DataFrame, *, measure: str | None = None, sd: float | None = None,
    reliability: float | None = None, title: str | None = None,
) -> Figure:
    """One measure's scores over time with the reliable-change band around the first score.

    ``measure`` defaults to the first user-entered outcome measure, else "Session rating".
    Without ``sd`` the SD of the case's own scores is used (needs ≥ 3 scores), and
    ``reliability`` defaults to 0.8; the note under the chart says which values were used.
    """
    if measure is None:
        names = list(dict.fromkeys(outs["measure"])) if not outs.empty else []
        measure = next((m for m in names if m != "Session rating"), "Session rating")
    rows = outs[outs["measure"] == measure] if not outs.empty else outs
    fig = _figure()
    ax = fig.add_subplot()
    ax.set_title(mpl_text(title or f"Outcome trend: {measure}"), loc="left", fontsize=11)
    note = f"Reliable Change Index (Jacobson & Truax): {P.RCI_FORMULA}. "
    if rows.empty:
        _empty(ax, mpl_text(f"No {measure.lower()} scores yet"))
        _note(fig, note)
        return fig
    x, y = _py_dates(rows["date"]), [float(v) for v in rows["score"]]
    ax.plot(x, y, marker="o", color=SELF, gid="outcome", label=mpl_text(measure))
    assumed = []
    if sd is None and len(y) >= 3:
        import statistics

        sd = statistics.stdev(y) or None
        assumed.append("SD from this case's own scores")
    if reliability is None:
        reliability = 0.8
        assumed.append("r = 0.8 assumed")
    if sd:
        half = P.reliable_change_threshold(sd, reliability)
        ax.axhspan(y[0] - half, y[0] + half, color="#bbb", alpha=0.35, gid="rci-band",
                   label="no reliable change from the first score")
        for xi, yi in zip(x[1:], y[1:], strict=True):
            rci, reliable = P.reliable_change(y[0], yi, sd, reliability)
            if reliable:
                ax.plot([xi], [yi], marker="*", ms=12, color=SUP, ls="none", gid="reliable")
        note += f"Band: first score ± 1.96·√2·SE with SD = {sd:.2f}, r = {reliability:g}"
        note += f" ({'; '.join(assumed)}; enter your measure's published values)." \
            if assumed else "."
    else:
        note += "Band shown once there are 3 scores or the measure's SD is given."
    _dates(ax, x)
    ax.set_ylabel("Score")
    ax.legend(loc="lower right", fontsize=7)
    _note(fig, note)
    return fig


def frequency_chart(freq: pd.DataFrame, standard: P.SupervisionStandard | None = None,
                    *, title: str = "Supervision received per month") -> Figure:
    """Hours per month (bars) against the standard (line); sessions printed on each bar."""
    std = standard or P.SupervisionStandard()
    fig = _figure()
    ax = fig.add_subplot()
    ax.set_title(title, loc="left", fontsize=11)
    ax.axhline(std.min_hours_per_month, color="#444", ls="--", lw=1, gid="standard",
               label=f"{std.min_hours_per_month:g} h standard")
    if freq.empty:
        ax.text(0.5, 0.5, "No supervision sessions recorded yet", ha="center",
                transform=ax.transAxes, color="#666", gid="empty")
        ax.set_ylim(0, std.min_hours_per_month * 1.3)
    else:
        months = list(freq["month"])
        colors = ["#3a8f5c" if ok else "#c0392b" for ok in freq["meets"]]
        bars = ax.bar(months, list(freq["hours"]), color=colors, gid="hours")
        for b, s, need in zip(bars, freq["sessions"], freq["sessions_required"], strict=True):
            ax.annotate(f"{s}/{need:g}", (b.get_x() + b.get_width() / 2, b.get_height()),
                        textcoords="offset points", xytext=(0, 2), ha="center", fontsize=7)
        ax.set_ylabel("Hours")
        ax.set_ylim(0, max(std.min_hours_per_month, float(freq["hours"].max())) * 1.3)
        ax.tick_params(axis="x", labelsize=7, rotation=45)
    ax.legend(loc="upper left", fontsize=7)
    _note(fig, FREQ_NOTE + f"Standard: {std.label}. Labels show sessions held / required; "
               "green bars meet the standard, red bars do not.")
    return fig


def strip_chart(df: pd.DataFrame, case: str) -> Figure:
    """A small two-panel strip: GAS T-score and session rating per session."""
    gas = P.gas_by_session(df, case)
    outs = P.outcomes(df, case)
    rating = outs[outs["measure"] == "Session rating"]
    fig = _figure(8, 2.0)
    a1, a2 = fig.subplots(1, 2)
    a1.set_title("GAS T-score", fontsize=9, loc="left")
    a1.axhline(50, color="#888", lw=1, ls="--", gid="t50")
    if not gas.empty:
        x = _py_dates(gas["date"])
        a1.plot(x, list(gas["t_score"]), marker="o", color=SELF, gid="gas")
        _dates(a1, x)
    a2.set_title("Session rating (0–10)", fontsize=9, loc="left")
    if not rating.empty:
        x = _py_dates(rating["date"])
        a2.plot(x, list(rating["score"]), marker="o", color=SUP, gid="session-rating")
        a2.set_ylim(-0.5, 10.5)
        _dates(a2, x)
    for ax in (a1, a2):
        ax.tick_params(labelsize=7)
    _note(fig, f"GAS: {P.GAS_FORMULA} (50 = goals met as expected). Session rating: the "
               "worker's own 0–10 rating of how useful each session was.")
    return fig


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def review_figures(df: pd.DataFrame, case: str, worker: str | None = None,
                   settings: dict[str, Any] | None = None) -> list[Figure]:
    """Every progress chart for a case, in review order."""
    settings = settings or {}
    std = standard_from(settings)
    outs = P.outcomes(df, case)
    figs = [gas_chart(P.gas_by_session(df, case)), goals_chart(P.goal_scores(df, case))]
    rates = P.ratings(df, case)
    groups = list(dict.fromkeys(rates["group"])) if not rates.empty else []
    figs += [ratings_chart(rates, g) for g in groups] or [ratings_chart(rates, "practice")]
    measures = list(dict.fromkeys(outs["measure"])) if not outs.empty else ["Session rating"]
    for m in measures:
        licensed = m != "Session rating"
        figs.append(outcome_chart(
            outs, measure=m,
            sd=_opt(settings.get("outcome_sd")) if licensed else None,
            reliability=_opt(settings.get("outcome_reliability")) if licensed else None))
    freq = P.supervision_frequency(P.worker_sessions(df, worker), std)
    who = "this worker, all cases in the store" if worker else "all workers"
    figs.append(frequency_chart(freq, std, title=f"Supervision received per month ({who})"))
    return figs


def _opt(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def standard_from(settings: dict[str, Any]) -> P.SupervisionStandard:
    """A standard from optional workbook parameters (``supervision_standard`` etc.)."""
    import datetime as dt

    if settings.get("supervision_standard") == P.NEWLY_QUALIFIED and settings.get("nq_start"):
        with_start = dt.date.fromisoformat(str(settings["nq_start"]))
        return P.SupervisionStandard(newly_qualified=True, start=with_start)
    hours = _opt(settings.get("min_hours_per_month"))
    return P.SupervisionStandard(min_hours_per_month=hours or 1.5)


def review_tables_html(df: pd.DataFrame, case: str) -> str:
    """Goals (latest score) and actions (latest status) as escaped HTML tables."""
    goals = P.goal_summary(df, case)
    acts = P.action_status(df, case)
    parts = ["<h3>Goals</h3>"]
    parts.append(_table(goals, ["set", "goal", "expected", "target_date", "weight",
                                "latest_score", "scored"]) if not goals.empty
                 else "<p><i>No goals recorded yet.</i></p>")
    parts.append("<h3>Actions</h3>")
    parts.append(_table(acts, ["agreed", "action", "owner", "due", "status", "reviewed"])
                 if not acts.empty else "<p><i>No actions recorded yet.</i></p>")
    return "\n".join(parts)


def _table(df: pd.DataFrame, cols: list[str]) -> str:
    shown = df[cols].copy()
    for c in cols:
        shown[c] = [_cell(v, signed=c == "latest_score") for v in shown[c]]
    shown.columns = [c.replace("_", " ").capitalize() for c in cols]
    return shown.to_html(index=False, escape=True, border=0, classes="sk-table")


def _cell(v: Any, signed: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if hasattr(v, "strftime"):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, float) and v.is_integer():
        return f"{v:+.0f}" if signed else f"{v:g}"
    return str(v)
