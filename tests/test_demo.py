"""The demo store: one fictional worker-supervisor pair, an agreement, six multi-case sessions,
worksheets and a progress review, built through the public API from templates/demo/demo.yaml.

Prompts are found by their annotations (carry, carried, rates, private, required) wherever
the test is about what an answer means, so the tests follow the templates' meaning, not ids.
"""

import json
import re
from pathlib import Path

import pytest

from supervision_kit import load_store
from supervision_kit.core.errors import ConflictError
from supervision_kit.core.prompts import is_answered
from supervision_kit.core.workbook import META, Record, load_notebook, open_record, read_answers
from supervision_kit.launch.demo import build_demo_store, load_demo, run_demo
from supervision_kit.progress import measures as P
from supervision_kit.signoff import missing_required, verify

WORKER, SUPERVISOR = "Jordan Reyes (fictional)", "Priya Nair (fictional)"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo") / "store"
    return root, build_demo_store(root)


@pytest.fixture(scope="module")
def sessions(demo):
    root, _made = demo
    recs = [open_record(p) for p in sorted((root / "sessions").glob("*.ipynb"))]
    recs = [r for r in recs if r.info["worker"] == WORKER]  # not the placement student's
    return sorted(recs, key=lambda r: r.info["session_date"])


def _finalized(rec: Record) -> bool:
    return "finalized" in rec.nb["metadata"][META]


def _carried(rec: Record, kind: str, case: str | None = None) -> dict[str, object]:
    """Review prompts of items carried in as ``kind`` (for ``case``) -> their answers."""
    return {pid: rec.answers.get(pid) for pid, p in rec.prompts.items()
            if (p.get("carried") or {}).get("as") == kind and p.get("case") == case}


def _table(rec: Record, kind: str, case: str | None = None) -> list[dict]:
    """Rows of the table carried as ``kind`` (for ``case``)."""
    return [row for pid, p in rec.prompts.items()
            if (p.get("carry") or {}).get("as") == kind and p.get("case") == case
            for row in rec.answers.get(pid) or []]


def _case_answer(rec: Record, case: str, base: str):
    hits = [v for pid, v in rec.answers.items()
            if rec.prompts.get(pid, {}).get("case") == case and pid.split("__")[0] == base]
    return hits[0] if hits else None


def test_one_pair_six_multi_case_sessions_over_five_months(demo, sessions):
    root, made = demo
    made = [p for p in made if open_record(p).info["worker"] == WORKER]  # the pair's own
    assert {p.parent.name for p in made} == {"agreements", "sessions", "demo-01", "demo-02",
                                             "demo-03"}
    assert len(sessions) == 6
    dates = [r.info["session_date"] for r in sessions]
    assert dates[0] == "2026-05-12" and dates[-1] == "2026-10-06"
    assert all(1 <= len(r.info["cases"]) <= 3 for r in sessions)
    assert sum(len(r.info["cases"]) >= 2 for r in sessions) == 6
    assert max(len(r.info["cases"]) for r in sessions) == 3
    assert {c for r in sessions for c in r.info["cases"]} == {"demo-01", "demo-02", "demo-03"}
    for path in made:
        info = open_record(path).info
        assert (info["worker"], info["supervisor"]) == (WORKER, SUPERVISOR), path
    # the file name lists the cases, and a case block's prompts know their case
    s4 = sessions[3]
    assert Path(s4.info["path"]).name == "2026-08-04-session-demo-01-demo-02-demo-03.ipynb"
    assert {p.get("case") for p in s4.prompts.values()} == {None, "demo-01", "demo-02",
                                                            "demo-03"}


def test_agreement_is_signed_and_due_for_review_after_the_sessions(demo, sessions):
    root, _made = demo
    [path] = sorted((root / "agreements").glob("*.ipynb"))
    rec = open_record(path)
    assert rec.template["kind"] == "agreement" and rec.locked and verify(path).ok
    assert rec.info["session_date"] < sessions[0].info["session_date"]
    [review] = [v for pid, v in rec.answers.items() if rec.prompts[pid]["kind"] == "date"]
    assert review > sessions[-1].info["session_date"]


def test_earlier_records_are_complete_signed_by_both_and_verify(demo):
    root, made = demo
    done = [p for p in made if _finalized(open_record(p))
            and open_record(p).info["worker"] == WORKER]  # the placement student: below
    assert len(done) == 5 + 1 + 3  # sessions 1-5, the agreement, three worksheets
    for path in done:
        rec = open_record(path)
        assert missing_required(rec) == [], path
        assert rec.locked and set(rec.state.signed) == {"worker", "supervisor"}, path
        assert verify(path).ok, path


def test_newest_session_is_open_and_what_the_demo_opens(demo, sessions):
    root, _made = demo
    newest = run_demo(str(root), lab=False)
    assert newest.parent.name == "sessions" and newest.name.startswith("2026-10-06-session-")
    rec = open_record(newest)
    assert not _finalized(rec) and not rec.locked
    assert all(_finalized(r) for r in sessions[:-1])
    assert read_answers(newest)["answers"]["wellbeing"].startswith("Fine.")
    # opened mid-session: items carried in are shown for review, some already marked
    assert _carried(rec, "goals", "demo-01") and _carried(rec, "actions", "demo-03")
    assert missing_required(rec)  # the supervisor's parts are still to come


def test_a_safeguarding_concern_shows_in_the_next_session_of_its_case_until_closed(sessions):
    about = [r for r in sessions if "demo-02" in r.info["cases"]]
    raised = [r for r in about if _table(r, "safeguarding", "demo-02")]
    assert len(raised) == 1
    i = about.index(raised[0])
    assert _case_answer(raised[0], "demo-02", "sg_screen") == "Yes"
    [row] = _table(raised[0], "safeguarding", "demo-02")
    assert row["status"].startswith("Open") and row["threshold"] and row["consulted"]
    statuses = [list(_carried(r, "safeguarding", "demo-02").values()) for r in about[i + 1:]]
    assert statuses == [["Open - action in progress"], ["Closed"], []]
    assert not any(_carried(r, "safeguarding", c) for r in sessions for c in ("demo-01",
                                                                                "demo-03"))


def test_carried_items_are_marked_and_decisions_hold_the_persons_view(sessions):
    for rec in sessions[:-1]:
        carried = {pid: v for pid, v in rec.answers.items()
                   if rec.prompts.get(pid, {}).get("carried")}
        assert all(is_answered(v) for v in carried.values()), rec.info["session_date"]
        unmarked = [pid for pid, p in rec.prompts.items()
                    if p.get("carried") and pid not in carried]
        assert unmarked == [], rec.info["session_date"]
    decisions = [row for r in sessions for c in r.info["cases"] for row in
                 _table(r, "decisions", c)]
    assert len(decisions) >= 3 and all(d["persons_view"] and d["reasons"] for d in decisions)
    actions = [v for r in sessions for c in r.info["cases"]
               for v in _carried(r, "actions", c).values()]
    assert {"Done", "Partly done", "Not done"} <= set(actions)
    mediation = [v for r in sessions for v in _carried(r, "mediation").values()]
    assert mediation == ["Resolved", "Raised - awaiting response", "Resolved"]


def test_goals_are_written_with_levels_and_a_baseline(sessions):
    for rec in sessions:
        rows = [row for c in [None, *rec.info["cases"]]
                for kind in ("goals", "development_goals") for row in _table(rec, kind, c)]
        assert rows, rec.info["session_date"]
        for row in rows:
            assert row["baseline"] in ("-2", "-1", "0")
            assert all(row[k] for k in ("level_minus1", "expected", "level_plus1"))
            assert row["smart"] and row["target_date"] and row["measure"]


def test_ratings_move_gently_and_the_supervisor_differs_with_evidence(demo):
    root, _made = demo
    r = P.ratings(load_store(root), "demo-01")
    cc = r[r["group"] == "Client-centred practice"]
    mean = cc[cc["rater"] == "self"].groupby("date")["rating"].mean().tolist()
    assert mean == sorted(mean) and mean[-1] - mean[0] >= 1.5
    assert max(b - a for a, b in zip(mean, mean[1:], strict=False)) <= 1.0
    both = cc.pivot_table(index=["date", "item"], columns="rater", values="rating").dropna()
    assert (both["self"] != both["supervisor"]).sum() >= 3
    gas = P.gas_by_session(load_store(root), "demo-01")["t_score"].tolist()
    assert gas == sorted(gas) and gas[0] < 50 < gas[-1]


def test_supervisor_feedback_is_written_by_function_including_mediation(sessions):
    for rec in sessions[:-1]:
        written = [pid for pid in ("fb_administrative", "fb_educational", "fb_supportive",
                                   "fb_strengths", "fb_development", "fb_overall")
                   if is_answered(rec.answers.get(pid))]
        assert len(written) == 6, rec.info["session_date"]
    assert [len(_table(r, "mediation")) for r in sessions] == [1, 0, 1, 0, 0, 0]


def test_hours_count_once_per_session_however_many_cases(demo, sessions):
    root, _made = demo
    per_session = P.worker_sessions(load_store(root), WORKER)
    assert len(per_session) == 6
    assert [m for _d, m in per_session] == [90, 90, 75, 90, 90, None]
    assert sum(len(r.info["cases"]) for r in sessions) > len(per_session)


def test_wellbeing_stays_out_of_the_table_unless_asked_for(demo):
    root, _made = demo
    first = sorted((root / "sessions").glob("2*-session-*.ipynb"))[0]
    private = [pid for pid, p in open_record(first)
               .prompts.items() if p.get("private")]
    assert "wellbeing" in private
    df = load_store(root)
    assert not set(df["prompt_id"]) & set(private)
    mine = load_store(root, private=True)
    assert mine["value"].astype(str).str.startswith("Tired. Two colleagues").any()


def test_worksheets_per_case_and_a_correct_dolgoff_screen(demo):
    root, _made = demo
    assert sorted(p.relative_to(root).as_posix() for p in root.glob("demo-0*/*.ipynb")) == [
        "demo-01/2026-10-06-progress.ipynb", "demo-02/2026-06-09-ethics.ipynb",
        "demo-02/2026-08-04-process_recording.ipynb",
        "demo-03/2026-08-04-critical_incident.ipynb"]
    a = read_answers(root / "demo-02" / "2026-06-09-ethics.ipynb")["answers"]
    # rules first: they conflict, so the ordered principles decide
    assert a["eth_rules_screen"] == "Rules conflict"
    rows = a["eth_principles"]
    ranks = [int(r["principle"].split()[0]) for r in rows]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
    decisive = [r for r in rows if r["weight"] == "Decisive"]
    assert len(decisive) == 1
    # a higher principle in play is met or outweighed, and the reasons say so
    higher = [r for r in rows if int(r["principle"].split()[0]) < int(
        decisive[0]["principle"].split()[0]) and r["weight"] == "Relevant"]
    assert higher and all(r["principle"].split(" ", 1)[1].lower() in a["eth_principle_rank"].lower()
                          for r in higher)
    assert {r["option"] for r in a["eth_theories"]} and all(
        r["duty"] and r["consequences"] and r["virtue"] and r["care"] for r in a["eth_theories"])
    assert a["eth_info_sharing"] and a["eth_decision"] and a["eth_rationale"]
    pr = read_answers(root / "demo-02" / "2026-08-04-process_recording.ipynb")["answers"]
    assert len(pr["pr_exchanges"]) >= 6 and any(r["supervisor_comment"] for r in pr["pr_exchanges"])


def test_the_demo_names_no_one_from_the_vignettes():
    from supervision_kit.core.prompts import templates_dir

    text = json.dumps(load_demo("demo.yaml")).lower()
    names = set()
    for md in (templates_dir() / "vignettes").glob("*.md"):
        for line in md.read_text(encoding="utf-8").splitlines():
            if line.startswith("- **"):  # "- **Name**, role" in a vignette's People list
                names.add(line[4:].split("**")[0].lower())
    assert names and not [n for n in names if re.search(rf"\b{re.escape(n)}\b", text)]


def test_demo_is_idempotent_and_never_clobbers_other_stores(demo, tmp_path):
    root, made = demo
    before = {p: p.stat().st_mtime_ns for p in made}
    again = build_demo_store(root)
    assert {p: p.stat().st_mtime_ns for p in again} == before
    other = tmp_path / "mine"
    (other / "case").mkdir(parents=True)
    (other / "case" / "x.ipynb").write_text("{}")
    with pytest.raises(ConflictError, match="not a demo store"):
        build_demo_store(other, reset=True)
    assert (other / "case" / "x.ipynb").read_text() == "{}"


def test_demo_includes_an_executed_progress_review_with_charts(demo):
    root, made = demo
    review = root / "demo-01" / "2026-10-06-progress.ipynb"
    assert review in made
    nb = json.loads(review.read_text())
    images = [o for c in nb["cells"] for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert len(images) >= 5
    assert load_notebook(review)["metadata"][META]["workbook"]["case_id"] == "demo-01"
