import json

import pytest

from supervision_kit.core.errors import ConflictError
from supervision_kit.core.workbook import (
    ANSWER_MIME,
    META,
    load_notebook,
    prompt_index,
    read_answers,
)
from supervision_kit.launch.demo import build_demo_store, run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo") / "store"
    return root, build_demo_store(root)


def test_demo_has_two_cases_and_six_sessions_for_one(demo):
    root, made = demo
    cases = {p.parent.name for p in made if p.parent.name.startswith("demo-")}
    assert cases == {"demo-01", "demo-02"}
    assert len([p for p in made if p.parent.name == "demo-01"]) >= 6


def test_finalized_demo_sessions_are_complete_plain_json(demo):
    root, made = demo
    first = root / "demo-01" / "2026-05-12-session.ipynb"
    nb = json.loads(first.read_text())
    values = {o["data"][ANSWER_MIME]["id"]: o["data"][ANSWER_MIME]["value"]
              for c in nb["cells"] for o in c.get("outputs", []) if ANSWER_MIME in o["data"]}
    assert values["cc_empathy_rating"] == 3 and values["goals"][0]["attainment"] == -1
    assert "finalized" in nb["metadata"][META]


def test_later_sessions_carry_forward_and_newest_is_in_progress(demo):
    root, made = demo
    newest = run_demo(str(root), lab=False)
    assert newest.name == "2026-10-06-session.ipynb"
    nb = load_notebook(newest)
    assert "finalized" not in nb["metadata"][META]
    assert "cf_goals_1_score" in prompt_index(nb)
    assert read_answers(newest)["answers"]["wellbeing"].startswith("Fine.")


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


def test_demo_includes_a_placement_student_with_numbers_to_check_by_hand(demo):
    """templates/demo/placement.yaml: the numbers a placement office would check."""
    from supervision_kit.placements.agreements import worker_framework
    from supervision_kit.placements.evidence import collect, gaps
    from supervision_kit.placements.frameworks import load_requirement
    from supervision_kit.placements.hours import hours_log

    root, made = demo
    student = "Ana Lindqvist (fictional)"
    assert {p.parent.name for p in made} >= {"learning_agreements", "sessions", "evaluations",
                                             "F-01", "F-02"}
    log = hours_log(root, student, load_requirement("us-field-placement-example"),
                    until="2026-03-22")
    assert len(log.sessions) == 10
    assert {k.kind: (k.hours, k.counted) for k in log.kinds} == {
        "individual": (4.25, 4.25), "group": (6.0, 5.0), "live": (0.75, 0.75),
        "remote": (1.0, 1.0)}
    assert (log.total_hours, log.counted_hours, log.remaining_hours) == (12.0, 11.0, 4.0)
    assert log.observations == {"recorded": 2, "signed": 2, "required": 3}
    assert any("2026-02-25 (45 min)" in p for p in log.problems)
    fw = worker_framework(root, student)
    assert gaps(collect(root, student, fw), fw) == [
        "No evidence yet for competency 5: Engage in Policy Practice"]
