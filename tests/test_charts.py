import datetime as dt
from types import SimpleNamespace

import pandas as pd
import pytest

from supervision_kit.progress import charts as C
from supervision_kit.progress import measures as P
from supervision_kit.record import fill
from supervision_kit.table.index import load_store
from tests.test_progress import SESSIONS, build_case

PNG = b"\x89PNG\r\n\x1a\n"


def _line(fig, gid):
    found = [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_gid() == gid]
    assert found, f"no line {gid!r}"
    return found[0]


def _texts(fig):
    texts = (t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))
    return " ".join(" ".join(texts).split())  # the notes are wrapped


def _dates(n):
    return pd.to_datetime([dt.date(2026, 1, 5) + dt.timedelta(days=28 * i) for i in range(n)])


@pytest.mark.parametrize("n", [0, 1, 7])
def test_gas_chart(n):
    gas = pd.DataFrame({"date": _dates(n), "path": ["p"] * n, "goals": [2] * n,
                        "t_score": [40.0 + 3 * i for i in range(n)]})
    fig = C.gas_chart(gas)
    assert list(_line(fig, "t50").get_ydata()) == [50, 50]
    if n:
        assert list(_line(fig, "gas").get_ydata()) == list(gas["t_score"])
    else:
        assert "No goals have been scored yet" in _texts(fig)
    assert P.GAS_FORMULA in _texts(fig)
    assert C.png(fig).startswith(PNG)


@pytest.mark.parametrize("n", [0, 1, 6])
def test_goals_chart(n):
    rows = [{"date": d, "path": "p", "goal": g, "score": s, "weight": 1.0, "source": "x"}
            for i, d in enumerate(_dates(n)) for g, s in (("Walk to the shop", i % 5 - 2),
                                                          ("Open the post", 0))]
    fig = C.goals_chart(pd.DataFrame(rows, columns=["date", "path", "goal", "score", "weight",
                                                    "source"]))
    if n:
        assert list(_line(fig, "goal-1").get_ydata()) == [i % 5 - 2 for i in range(n)]
        assert list(_line(fig, "goal-2").get_ydata()) == [0] * n
    else:
        assert "No goals" in _texts(fig)
    assert "much less than expected" in _texts(fig)
    assert C.png(fig).startswith(PNG)


@pytest.mark.parametrize("n", [0, 1, 6])
def test_ratings_chart_self_and_supervisor(n):
    rows = []
    for i, d in enumerate(_dates(n)):
        rows.append({"date": d, "group": "client-centred", "item": "empathy", "rater": "self",
                     "rating": min(5, 2 + i)})
        if i % 2 == 0:
            rows.append({"date": d, "group": "client-centred", "item": "empathy",
                         "rater": "supervisor", "rating": 2})
        rows.append({"date": d, "group": "casework method", "item": "planning",
                     "rater": "self", "rating": 3})
    rates = pd.DataFrame(rows, columns=["date", "group", "item", "rater", "rating"])
    fig = C.ratings_chart(rates, "client-centred")
    if n:
        assert list(_line(fig, "empathy-self").get_ydata()) == [min(5, 2 + i) for i in range(n)]
        assert list(_line(fig, "empathy-supervisor").get_ydata()) == [2] * ((n + 1) // 2)
        assert not [ln for ax in fig.axes for ln in ax.get_lines()
                    if ln.get_gid().startswith("planning")]
    else:
        assert "No client-centred ratings yet" in _texts(fig)
    assert "supervisor's rating" in _texts(fig)
    assert C.png(fig).startswith(PNG)


@pytest.mark.parametrize("n", [0, 1, 2, 6])
def test_outcome_chart_with_reliable_change_band(n):
    scores = [10, 12, 11, 20, 24, 25][:n]
    outs = pd.DataFrame({"date": _dates(n), "measure": ["Session rating"] * n, "score": scores})
    fig = C.outcome_chart(outs)
    assert "RCI = (post − pre) / √(2·SE²)" in _texts(fig)
    if n:
        assert list(_line(fig, "outcome").get_ydata()) == scores
    bands = [p for ax in fig.axes for p in ax.patches if p.get_gid() == "rci-band"]
    assert len(bands) == (1 if n >= 3 else 0)  # SD from own scores needs 3 of them
    assert C.png(fig).startswith(PNG)


def test_outcome_band_uses_given_sd_and_marks_reliable_change():
    outs = pd.DataFrame({"date": _dates(3), "measure": ["Measure X"] * 3, "score": [18, 21, 30]})
    fig = C.outcome_chart(outs, sd=5, reliability=0.9)
    half = P.reliable_change_threshold(5, 0.9)
    band = next(p for ax in fig.axes for p in ax.patches if p.get_gid() == "rci-band")
    assert band.get_y() == pytest.approx(18 - half)
    assert band.get_y() + band.get_height() == pytest.approx(18 + half)
    stars = [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_gid() == "reliable"]
    assert [list(s.get_ydata()) for s in stars] == [[30]]  # 21 is inside the band, 30 is not
    assert "SD = 5.00, r = 0.9" in _texts(fig)


@pytest.mark.parametrize("n", [0, 1, 5])
def test_frequency_chart(n):
    freq = P.supervision_frequency([(d, 60 + 20 * i) for i, d in enumerate(_dates(n))])
    fig = C.frequency_chart(freq)
    assert list(_line(fig, "standard").get_ydata()) == [1.5, 1.5]
    bars = [p for ax in fig.axes for p in ax.patches if p.get_gid() == "hours"] or [
        b for ax in fig.axes for c in ax.containers for b in c]
    assert [round(b.get_height(), 2) for b in bars] == list(freq["hours"])
    assert "at least 1 session(s) and 1.5 h a month" in _texts(fig)
    assert C.png(fig).startswith(PNG)


def test_figures_do_not_touch_pyplot_state():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    C.gas_chart(pd.DataFrame(columns=["date", "path", "goals", "t_score"]))
    assert plt.get_fignums() == before


# ---------------------------------------------------------------- kernel hooks


@pytest.fixture
def shown(monkeypatch):
    out = {"html": [], "figs": []}
    from supervision_kit.kernel import panels

    monkeypatch.setattr(panels, "_html", out["html"].append)
    monkeypatch.setattr(panels, "_show", out["figs"].append)
    return out


class K:  # the kernel panels, imported late (ipywidgets)
    @staticmethod
    def progress_strip(wb):
        from supervision_kit.kernel.panels import progress_strip

        return progress_strip(wb)

    @staticmethod
    def progress_review(wb):
        from supervision_kit.kernel.panels import progress_review

        progress_review(wb)


def _wb(path, **info):
    from supervision_kit.core.workbook import load_notebook, workbook_info

    return SimpleNamespace(path=path, info=workbook_info(load_notebook(path)) | info)


def test_progress_strip_only_with_history(make_workbook, shown):
    from supervision_kit.kernel import panels

    first = make_workbook(case="demo-01", date="2026-01-12")
    assert K.progress_strip(_wb(first)) is None
    assert shown["figs"] == [] and "No earlier sessions" in shown["html"][0]
    fill(first, SESSIONS[0][1])
    later = make_workbook(case="demo-01", date="2026-02-09")
    strip = K.progress_strip(_wb(later))  # a line and a button: the chart is drawn on request
    line, button, chart = strip.children
    assert "1 earlier session since 12 Jan 2026" in line.value and chart.children == ()
    fig = panels.strip_figure(_wb(later))
    assert list(_line(fig, "session-rating").get_ydata()) == [5]
    button.click()
    assert type(chart.children[0]).__name__ == "Image" and button.layout.display == "none"


def test_progress_review_shows_every_chart_and_tables(make_workbook, store, shown):
    build_case(make_workbook)
    prog = make_workbook(case="demo-01", date="2026-03-20", template="progress")
    K.progress_review(_wb(prog))
    figs = shown["figs"]
    titles = [ax.get_title(loc="left") for f in figs for ax in f.axes[:1]]
    titles += [f._suptitle.get_text() for f in figs if f._suptitle]
    for want in ("Goal attainment", "Attainment goal by goal", "Client-centred practice ratings",
                 "Casework methods ratings", "Outcome trend: Licensed wellbeing measure",
                 "Outcome trend: Session rating", "Supervision received per month"):
        assert any(t.startswith(want) for t in titles), want
    gas = _line(figs[0], "gas")
    assert list(gas.get_ydata()) == list(P.gas_by_session(load_store(store), "demo-01")["t_score"])
    tables = shown["html"][-1]
    assert "Opens post with a support worker every Friday" in tables
    assert "Partly done" in tables and "+1" in tables


def test_review_tables_escape_html(make_workbook, store):
    build_case(make_workbook, sessions=[("2026-01-01", {
        "actions": [{"action": "<script>alert(1)</script>", "owner": "Worker"}]})])
    out = C.review_tables_html(load_store(store), "demo-01")
    assert "<script>" not in out and "&lt;script&gt;" in out
