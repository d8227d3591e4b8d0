"""The caseload view: every supervisee across stores, from annotations (fictional data)."""

from __future__ import annotations

import json
import os
import stat

import pytest

from supervision_kit.caseload import index as cindex
from supervision_kit.caseload.api import load_caseload
from supervision_kit.caseload.index import read_summaries
from supervision_kit.caseload.report import notebook, write_html, write_notebook_view
from supervision_kit.caseload.view import interval_days, sort_rows
from supervision_kit.core.errors import InputError
from supervision_kit.core.workbook import open_record
from supervision_kit.generate.render import new_workbook
from supervision_kit.progress.measures import SupervisionStandard
from supervision_kit.record import fill
from supervision_kit.signoff import sign
from supervision_kit.signoff.identity import accounts
from tests.helpers import FIXTURE_TEMPLATES, run_cli

TODAY = "2026-03-10"


def make(store, template, date, worker, supervisor, cases=(), users=None):
    return new_workbook(cases=list(cases), worker=worker, supervisor=supervisor, date=date,
                        store=store, template=template, templates=str(FIXTURE_TEMPLATES),
                        accounts=accounts(*users) if users else None)


def pid(nb, suffix=None, carried=None):
    prompts = open_record(nb).prompts
    for k, p in prompts.items():
        if carried and (p.get("carried") or {}).get("as") == carried:
            return k
        if suffix and (k == suffix or k.startswith(suffix + "__")):
            return k
    raise KeyError(suffix or carried)


def both_sign(nb, worker, supervisor):
    sign(nb, "worker", worker)
    sign(nb, "supervisor", supervisor)


@pytest.fixture
def programme(tmp_path, monkeypatch):
    """Two stores: alice and carol are supervised by bob (B. Lead), dave by erin."""
    monkeypatch.setenv("SUPERVISION_KIT_CACHE", str(tmp_path / "cache"))
    a, b = tmp_path / "pair-alice-bob", tmp_path / "other"
    alice = ("A. Worker", "B. Lead")
    ag = make(a, "agree", "2026-01-05", *alice, users=("alice", "bob"))
    fill(ag, {"purpose": "Safe practice", "review_on": "2026-06-01"})
    both_sign(ag, *alice)
    s1 = make(a, "supervise", "2026-01-10", *alice, cases=["c-1"], users=("alice", "bob"))
    fill(s1, {"minutes": 90, pid(s1, "at_risk"): "Yes",
              pid(s1, "risk_log"): [{"concern": "Unsafe home", "by_when": "2026-01-20"}],
              pid(s1, "todo"): [{"what": "Call school", "who": "A", "due": "2026-01-15"},
                                {"what": "Book review", "who": "B", "due": "2026-04-01"}]})
    both_sign(s1, *alice)
    s2 = make(a, "supervise", "2026-02-10", *alice, cases=["c-1"], users=("alice", "bob"))
    prompts = open_record(s2).prompts
    statuses = {k: ("Still open" if p["carried"]["as"] == "safeguarding" else "Not done")
                for k, p in prompts.items() if p.get("carried")}
    assert len(statuses) == 3
    fill(s2, {"minutes": 60, **statuses})  # at_risk (required) left empty: incomplete
    carol = make(b, "supervise", "2026-03-01", "C. Worker", "B. Lead", cases=["c-7"])
    fill(carol, {"minutes": 90, pid(carol, "at_risk"): "No"})
    both_sign(carol, "C. Worker", "B. Lead")
    dave = make(b, "supervise", "2025-12-01", "D. Worker", "E. Other", cases=["c-9"])
    fill(dave, {"minutes": 45, pid(dave, "at_risk"): "No"})
    return {"stores": [a, b], "s1": s1, "s2": s2, "carol": carol, "cache": tmp_path / "cache"}


def rows_by_name(cl):
    return {r["supervisee"]: r for r in cl.rows}


def test_every_supervisee_with_what_needs_doing(programme):
    cl = load_caseload(programme["stores"], today=TODAY)
    rows = rows_by_name(cl)
    assert set(rows) == {"A. Worker", "C. Worker", "D. Worker"}
    a = rows["A. Worker"]
    assert a["account"] == "alice" and a["supervisor"] == "B. Lead"
    assert (a["sessions"], a["last_session"], a["next_due"]) == (2, "2026-02-10", "2026-03-12")
    assert a["days_to_due"] == 2
    assert (a["unsigned"], a["incomplete"]) == (1, 1)
    assert a["unsigned_records"] == [str(programme["s2"].resolve())]
    assert a["safeguarding_open"] == 1
    assert a["open_safeguarding"][0]["text"] == "Unsafe home"
    assert a["actions_past_due"] == 1  # 'Call school' (due 15 Jan, not done); the other is not due
    assert a["past_due_items"][0]["text"] == "Call school"
    assert a["agreement"] == "current (review 2026-06-01)"
    assert a["hours"] == 2.5
    c = rows["C. Worker"]
    assert c["agreement"] == "none on record" and c["safeguarding_open"] == 0
    assert c["unsigned"] == 0 and c["days_to_due"] == 21
    d = rows["D. Worker"]
    assert d["days_to_due"] < 0 and "session overdue" in d["notes"]
    # most to do first: dave (overdue x2, unsigned, no agreement) and alice (safeguarding x2,
    # past due, unsigned) both score 4, the sooner due first; then carol (no agreement)
    assert [(r["supervisee"], r["attention"]) for r in cl.rows] == [
        ("D. Worker", 4), ("A. Worker", 4), ("C. Worker", 1)]


def test_closing_the_concern_and_the_action_clears_them(programme):
    s3 = make(programme["stores"][0], "supervise", "2026-03-05", "A. Worker", "B. Lead",
              cases=["c-1"], users=("alice", "bob"))
    prompts = open_record(s3).prompts
    closing = {k: ("Closed" if p["carried"]["as"] == "safeguarding" else "Done")
               for k, p in prompts.items() if p.get("carried")}
    fill(s3, {"minutes": 30, pid(s3, "at_risk"): "No", **closing})
    a = rows_by_name(load_caseload(programme["stores"], today=TODAY))["A. Worker"]
    assert (a["safeguarding_open"], a["actions_past_due"]) == (0, 0)
    assert a["last_session"] == "2026-03-05"


def test_supervisor_filter_by_name_or_account(programme):
    by_name = load_caseload(programme["stores"], supervisor="B. Lead", today=TODAY)
    assert {r["supervisee"] for r in by_name.rows} == {"A. Worker", "C. Worker"}
    by_account = load_caseload(programme["stores"], supervisor="bob", today=TODAY)
    assert {r["supervisee"] for r in by_account.rows} == {"A. Worker"}


def test_agreement_review_due_and_unsigned(programme):
    a = rows_by_name(load_caseload(programme["stores"], today="2026-06-02"))["A. Worker"]
    assert a["agreement"] == "review due 2026-06-01" and "agreement" in a["notes"]


def test_hours_against_requirements(programme):
    cl = load_caseload(programme["stores"], today=TODAY,
                       requirements=["C. Worker=us-example-state-lcsw", "alice=uk-asye"])
    rows = rows_by_name(cl)
    c = rows["C. Worker"]
    assert (c["hours"], c["hours_required"], c["hours_basis"]) == (1.5, 100.0, "total")
    assert "hours below requirement (1.5 of 100)" in c["notes"]
    a = rows["A. Worker"]  # ASYE, week 8: fortnightly 90 min -> 3 h in 28 days
    assert (a["hours_required"], a["hours_basis"]) == (3.0, "last 28 days")
    assert rows["D. Worker"]["hours_required"] is None
    with pytest.raises(InputError, match="unknown requirement"):
        load_caseload(programme["stores"], requirements=["nope"])


def test_next_due_under_the_newly_qualified_standard():
    import datetime as dt

    nq = SupervisionStandard(newly_qualified=True, start=dt.date(2026, 1, 1))
    assert interval_days(nq, dt.date(2026, 1, 20), dt.date(2026, 1, 1)) == 7
    assert interval_days(nq, dt.date(2026, 3, 20), dt.date(2026, 1, 1)) == 14
    assert interval_days(nq, dt.date(2026, 8, 20), dt.date(2026, 1, 1)) == 30
    assert interval_days(SupervisionStandard(min_sessions_per_month=2), dt.date(2026, 1, 1),
                         dt.date(2026, 1, 1)) == 15


def test_sorting(programme):
    rows = load_caseload(programme["stores"], today=TODAY).rows
    assert [r["supervisee"] for r in sort_rows(rows, "supervisee")] == [
        "A. Worker", "C. Worker", "D. Worker"]
    assert [r["days_to_due"] for r in sort_rows(rows, "-days_to_due")] == [21, 2, -69]
    with pytest.raises(InputError, match="cannot sort by"):
        sort_rows(rows, "nonsense")


def test_cache_reads_only_what_changed(programme, monkeypatch):
    first, _ = read_summaries(programme["stores"])
    files = list((programme["cache"] / "caseload").glob("*.json"))
    assert len(files) == 3  # per store and top-level folder (agreements, sessions)
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    reads = []
    real = cindex.open_record

    def counting(path):
        reads.append(path)
        return real(path)

    monkeypatch.setattr(cindex, "open_record", counting)
    again, _ = read_summaries(programme["stores"])
    assert reads == [] and again == first
    fill(programme["s2"], {pid(programme["s2"], "at_risk"): "No"})
    changed, _ = read_summaries(programme["stores"])
    assert [p.name for p in reads] == [programme["s2"].name]
    assert {s["path"]: s for s in changed}[str(programme["s2"].resolve())]["missing"] == 0


def test_unreadable_files_are_skipped(programme):
    (programme["stores"][1] / "broken.ipynb").write_text("{")
    cl = load_caseload(programme["stores"], today=TODAY)
    assert len(cl.rows) == 3 and len(cl.skipped) == 1


def test_html_page_is_escaped_and_scriptless(programme, tmp_path):
    nb = make(programme["stores"][1], "supervise", "2026-03-02", "<img src=x onerror=alert(1)>",
              "B. Lead", cases=["c-5"])
    fill(nb, {"minutes": 60})
    cl = load_caseload(programme["stores"], today=TODAY)
    out = write_html(cl, tmp_path / "caseload.html")
    page = out.read_text()
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert "Content-Security-Policy" in page and "<script" not in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("data:image/png;base64,") == 3
    assert "Safeguarding open" in page


def test_cli_text_json_csv_html(programme, tmp_path):
    stores = [str(s) for s in programme["stores"]]
    env = {"SUPERVISION_KIT_CACHE": str(programme["cache"])}
    code, out, err = run_cli("caseload", "--store", *stores, "--today", TODAY, env=env)
    assert code == 0, err
    assert out.splitlines()[1].strip().startswith("D. Worker")
    code, out, err = run_cli("caseload", "--store", *stores, "--today", TODAY, "--format",
                             "json", "--supervisor", "B. Lead", "--sort", "supervisee",
                             "--html", tmp_path / "c.html", env=env)
    assert code == 0, err
    data = json.loads(out)
    assert [r["supervisee"] for r in data["supervisees"]] == ["A. Worker", "C. Worker"]
    assert "caseload page:" in err and (tmp_path / "c.html").is_file()
    code, out, err = run_cli("caseload", "--store", *stores, "--today", TODAY, "--format",
                             "csv", env=env)
    assert code == 0 and out.startswith("supervisee,account,supervisor,sessions")
    code, _out, err = run_cli("caseload", "--store", *stores, "--sort", "bogus", env=env)
    assert code == 2 and "cannot sort by" in err


def test_caseload_notebook_runs(programme, tmp_path):
    """The generated notebook (Voila-ready: code hidden) shows the table when executed."""
    import nbformat
    from nbclient import NotebookClient

    path = write_notebook_view(tmp_path / "caseload.ipynb", programme["stores"],
                               supervisor="B. Lead", options={"today": TODAY})
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[1].metadata["jupyter"]["source_hidden"]
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    html_out = "".join(o.get("data", {}).get("text/html", "") for o in nb.cells[1].outputs)
    assert "A. Worker" in html_out and "C. Worker" in html_out and "D. Worker" not in html_out
    assert notebook(["/x"])["cells"][1]["source"].count("show(") == 1
