"""A fork that renames every prompt id keeps its charts and carry-forward (issue 11): the code
reads the prompt sets' annotations, never ids or template names."""

from __future__ import annotations

import shutil

import pytest
import yaml

from supervision_kit.core.prompts import templates_dir
from supervision_kit.core.workbook import open_record
from supervision_kit.generate.render import new_workbook
from supervision_kit.record import fill
from tests.helpers import run_cli

WHO = {"worker": "W. Fork", "supervisor": "S. Fork"}


@pytest.fixture(scope="module")
def fork(tmp_path_factory):
    """The packaged templates with every prompt id in the session renamed (x<n>_…) and the
    template itself renamed too."""
    folder = tmp_path_factory.mktemp("fork") / "templates"
    shutil.copytree(templates_dir(), folder)
    path = folder / "prompts" / "session.yaml"
    data = yaml.safe_load(path.read_text())
    prompts = [p for sec in data["sections"] for p in sec["prompts"]]
    renamed = {p["id"]: f"x{n}_{p['id'][:20]}" for n, p in enumerate(prompts)}
    for p in prompts:
        p["id"] = renamed[p["id"]]
        if "show_if" in p:
            p["show_if"]["prompt"] = renamed[p["show_if"]["prompt"]]
        if "evidence" in p:
            p["evidence"] = renamed[p["evidence"]]
    data["name"] = "mysession"
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    (folder / "prompts" / "mysession.yaml").write_text(text)
    path.unlink()
    (folder / "session.ipynb").rename(folder / "mysession.ipynb")
    nb = (folder / "mysession.ipynb").read_text().replace('template = \\"session\\"',
                                                          'template = \\"mysession\\"')
    (folder / "mysession.ipynb").write_text(nb)
    return folder, renamed


def by(rec, **want):
    """The prompt ids whose annotations match (never an id)."""
    out = []
    for pid, p in rec.prompts.items():
        if all((p.get(k) or {}).get("as") == v if k in ("carry", "carried") else p.get(k) == v
               for k, v in want.items()):
            out.append(pid)
    return out


def test_renamed_fork_passes_templates_check(fork):
    folder, renamed = fork
    code, out, err = run_cli("templates", "check", folder)
    assert code == 0, err
    assert "ok  mysession" in out
    assert "goals" in renamed and renamed["goals"] != "goals"


def test_renamed_fork_carries_goals_and_actions_and_draws_every_chart(fork, tmp_path):
    import pandas as pd

    from supervision_kit.progress import charts as C
    from supervision_kit.progress import measures as P
    from supervision_kit.table.index import load_store

    folder, renamed = fork
    store = tmp_path / "store"

    def session(date):
        return new_workbook(cases=["F-1"], date=date, template="mysession",
                            templates=str(folder), store=store, **WHO)

    first = session("2026-01-12")
    rec = open_record(first)
    assert not set(rec.prompts) & set(renamed)  # no original id survived
    [goals] = by(rec, carry="goals")
    [actions] = by(rec, carry="actions")
    rated = [pid for pid, p in rec.prompts.items() if (p.get("rates") or {}).get("rater")]
    [minutes] = [pid for pid, p in rec.prompts.items() if p.get("duration") == "minutes"]
    [score] = [pid for pid, p in rec.prompts.items() if p.get("outcome") == "score"]
    [rating] = [pid for pid, p in rec.prompts.items() if p.get("outcome") == "session_rating"]
    fill(first, {goals: [{"goal": "Walks to school", "attainment": -1, "weight": 1}],
                 actions: [{"action": "Ring the school", "owner": "Worker"}],
                 minutes: 90, score: 12, rating: 6, **{pid: 2 for pid in rated}})
    second = session("2026-02-09")
    rec2 = open_record(second)
    [goal_review] = by(rec2, carried="goals")
    [action_review] = by(rec2, carried="actions")
    assert "Walks to school" in rec2.prompts[goal_review]["label"]
    assert "Ring the school" in rec2.prompts[action_review]["label"]
    fill(second, {goal_review: 1, action_review: "Done", minutes: 60, score: 18, rating: 8,
                  **{pid: 3 for pid in rated}})
    df = load_store(store)
    assert list(P.gas_by_session(df, "F-1")["goals"]) == [1, 1]
    assert list(P.action_status(df, "F-1")["status"]) == ["Done"]
    assert len(P.worker_sessions(df, WHO["worker"])) == 2
    figs = C.review_figures(df, "F-1", WHO["worker"])
    titles = [ax.get_title(loc="left") for f in figs for ax in f.axes[:1]]
    titles += [f._suptitle.get_text() for f in figs if f._suptitle]
    for want in ("Goal attainment", "Attainment goal by goal", "Client-centred practice",
                 "Casework methods", "Outcome trend", "Supervision received per month"):
        assert any(t.startswith(want) for t in titles), (want, titles)
    for f in figs:  # every chart has data, not just an empty frame
        lines = [ln for ax in f.axes for ln in ax.get_lines()] + \
                [p for ax in f.axes for p in ax.patches]
        assert lines, f._suptitle or f.axes[0].get_title(loc="left")
    assert isinstance(df, pd.DataFrame)
