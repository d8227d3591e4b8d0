"""Supervision record v2 (issue 13): a session around the worker with several cases, the
completeness rule, private prompts, safeguarding carried until closed, hours counted once."""

from __future__ import annotations

import pytest

from supervision_kit.core.errors import IncompleteError
from supervision_kit.core.workbook import open_record
from supervision_kit.generate.render import new_workbook
from supervision_kit.record import fill, finalize, mark_not_discussed
from supervision_kit.signoff import missing_required, sign, verify
from tests.helpers import run_cli

WHO = {"worker": "W. Test", "supervisor": "S. Test"}


@pytest.fixture
def session(store):
    def make(date, cases):
        return new_workbook(cases=cases, date=date, store=store, **WHO)
    return make


def complete(path):
    """Every required answer of a session, whatever its cases (found by annotation)."""
    rec = open_record(path)
    answers = {}
    for pid, p in rec.prompts.items():
        if not p.get("required"):
            continue
        if p["kind"] == "choice":
            answers[pid] = "No" if "No" in p["options"] else p["options"][0]
        elif p["kind"] == "number":
            answers[pid] = 90
        elif p["kind"] == "date":
            answers[pid] = "2026-12-31"
        else:
            answers[pid] = f"Written for {pid}."
    fill(path, answers)
    return answers


def test_two_cases_sign_only_when_complete_hours_once(session, store):
    from supervision_kit.progress import measures as P
    from supervision_kit.table.index import load_store

    path = session("2026-03-02", ["C-1", "C-2"])
    rec = open_record(path)
    assert rec.info["cases"] == ["C-1", "C-2"]
    assert "sg_screen__c1" in rec.prompts and "sg_screen__c2" in rec.prompts
    assert [pid for pid in rec.prompts if pid.startswith("duration_minutes")] == \
        ["duration_minutes"]
    fill(path, {"worker_agenda": "Two cases today."})
    with pytest.raises(IncompleteError) as err:
        sign(path, "worker", WHO["worker"])
    missing = dict(err.value.missing)
    assert {"sg_screen__c1", "sg_screen__c2", "refl_description__c2",
            "duration_minutes"} <= set(missing)
    code, _out, stderr = run_cli("sign", path, "--role", "supervisor", "--name", "S. Test")
    assert code == 2 and "sg_screen__c1" in stderr and len(stderr.strip().splitlines()) == 1
    complete(path)
    # a rating needs its evidence note
    rating = next(pid for pid, p in open_record(path).prompts.items() if p.get("evidence"))
    fill(path, {rating: 3})
    assert [m for m, _ in missing_required(open_record(path))] == \
        [open_record(path).prompts[rating]["evidence"]]
    fill(path, {open_record(path).prompts[rating]["evidence"]: "Seen on the joint visit."})
    assert not sign(path, "worker", WHO["worker"])["locked"]
    assert sign(path, "supervisor", WHO["supervisor"])["locked"]
    assert verify(path).ok
    df = load_store(store)
    assert P.worker_sessions(df, WHO["worker"]) == [(df["date"].iloc[0], 90.0)]


def test_not_discussed_with_a_reason_counts(session):
    path = session("2026-03-02", ["C-1"])
    complete(path)
    fill(path, {"fb_overall": None})
    assert ("fb_overall", open_record(path).prompts["fb_overall"]["label"]) in \
        missing_required(open_record(path))
    code, _o, err = run_cli("not-discussed", path, "fb_overall", "--reason",
                            "Supervisor called away; to follow next time")
    assert code == 0, err
    assert missing_required(open_record(path)) == []
    assert sign(path, "worker", WHO["worker"])
    finalize(path)
    assert open_record(path).not_discussed == {
        "fb_overall": "Supervisor called away; to follow next time"}
    with pytest.raises(Exception, match="unknown prompt id"):
        mark_not_discussed(path, "nope", "x")


def test_wellbeing_stays_private(session, store, tmp_path):
    from supervision_kit.export.html import export
    from supervision_kit.table.index import load_store

    path = session("2026-03-02", ["C-1"])
    complete(path)
    fill(path, {"wellbeing": "Sleeping badly since the inquest."})
    page = export(path, out=tmp_path / "r.html").read_text()
    assert "inquest" not in page
    assert "wellbeing" not in set(load_store(store)["prompt_id"])
    assert "wellbeing" in set(load_store(store, private=True)["prompt_id"])
    help_text = open_record(path).prompts["wellbeing"].get("help", "")
    assert "supervisor" in help_text.lower()  # says truthfully who can read it


def test_safeguarding_concern_carries_until_closed(session):
    first = session("2026-03-02", ["C-1", "C-2"])
    fill(first, {"sg_screen__c1": "Yes", "sg_log__c1": [
        {"concern": "Child left alone overnight", "status": "Open - action in progress"}]})
    second = open_record(session("2026-03-16", ["C-1"]))
    review = [pid for pid, p in second.prompts.items()
              if (p.get("carried") or {}).get("as") == "safeguarding"]
    assert len(review) == 1 and "Child left alone" in second.prompts[review[0]]["label"]
    fill(second.path, {review[0]: "Open - escalated"})
    third = open_record(session("2026-03-30", ["C-2", "C-1"]))
    again = [pid for pid, p in third.prompts.items()
             if (p.get("carried") or {}).get("as") == "safeguarding"]
    assert len(again) == 1 and third.prompts[again[0]]["case"] == "C-1"
    fill(third.path, {again[0]: "Closed"})
    fourth = open_record(session("2026-04-13", ["C-1"]))
    assert not any((p.get("carried") or {}).get("as") == "safeguarding"
                   for p in fourth.prompts.values())


def test_agreement_missing_then_due_is_shown_in_sessions(session, store):
    from tests.helpers import source

    nb = open_record(session("2026-03-02", [])).nb
    assert "No supervision agreement" in source(nb["cells"][0])
    agreement = new_workbook(template="agreement", date="2026-01-05", store=store, **WHO)
    assert agreement.parent == store / "agreements"
    complete(agreement)
    review = next(pid for pid, p in open_record(agreement).prompts.items()
                  if p.get("review_date"))
    fill(agreement, {review: "2026-06-01"})
    sign(agreement, "worker", WHO["worker"])
    sign(agreement, "supervisor", WHO["supervisor"])
    ok = open_record(session("2026-03-16", [])).nb
    assert "agreement" not in source(ok["cells"][0]).lower()
    late = open_record(session("2026-07-06", [])).nb
    assert "due for review \\(review date 2026\\-06\\-01\\)" in source(late["cells"][0])


def test_two_workers_records_on_one_day_both_made_and_none_overwritten(store):
    """A supervisor (or practice educator) with two workers on one day: the second worker's
    agreement gets their initials; the same worker again is refused, nothing overwritten."""
    from supervision_kit.core.errors import ConflictError

    first = new_workbook(template="agreement", date="2026-01-05", store=store, **WHO)
    before = first.read_bytes()
    other = {"worker": "Ana Bello-Díaz (fictional)", "supervisor": WHO["supervisor"]}
    second = new_workbook(template="agreement", date="2026-01-05", store=store, **other)
    assert second.name == "2026-01-05-agreement-abdf.ipynb" and first.read_bytes() == before
    assert open_record(second).info["worker"] == other["worker"]
    for who in (WHO, other):  # the same worker again: refused, whichever file is theirs
        with pytest.raises(ConflictError, match="already exists"):
            new_workbook(template="agreement", date="2026-01-05", store=store, **who)
    third = {"worker": "Ade Bello Diaz (fictional)", "supervisor": WHO["supervisor"]}
    assert new_workbook(template="agreement", date="2026-01-05", store=store,
                        **third).name == "2026-01-05-agreement-abdf-2.ipynb"
    # a session without cases is about the worker too
    s1 = new_workbook(template="session", date="2026-01-06", store=store, cases=[], **WHO)
    s2 = new_workbook(template="session", date="2026-01-06", store=store, cases=[], **other)
    assert s1.parent == s2.parent and s1 != s2
    # a record about a case keeps its one name: the case's own folder is the case's history
    new_workbook(template="session", date="2026-01-07", store=store, case_id="C-1", **WHO)
    with pytest.raises(ConflictError):
        new_workbook(template="session", date="2026-01-07", store=store, case_id="C-1", **other)


def test_a_goal_written_again_for_one_case_leaves_the_other_cases_goal(session):
    """Two cases with goals in the same words: writing it again for one case replaces that
    case's carried copy only; the other case's goal still comes back."""
    goal = [{"goal": "Attends the appointments", "expected": "Goes to every appointment"}]
    fill(session("2026-03-02", ["C-1", "C-2"]), {"goals__c1": goal, "goals__c2": goal})
    second = open_record(session("2026-03-16", ["C-1", "C-2"]))
    carried = {second.prompts[pid]["case"]: pid for pid, p in second.prompts.items()
               if (p.get("carried") or {}).get("as") == "goals"}
    assert set(carried) == {"C-1", "C-2"}
    fill(second.path, {carried["C-1"]: -1, "goals__c1": [
        {"goal": "Attends the appointments", "expected": "Goes with a friend"}]})
    third = open_record(session("2026-03-30", ["C-1", "C-2"]))
    again = {third.prompts[pid]["case"]: third.prompts[pid]["context"]["item"]["expected"]
             for pid, p in third.prompts.items()
             if (p.get("carried") or {}).get("as") == "goals"}
    assert again == {"C-1": "Goes with a friend", "C-2": "Goes to every appointment"}
