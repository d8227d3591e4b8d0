from supervision_kit.core.workbook import META, load_notebook, prompt_index
from supervision_kit.record import fill, mark_not_discussed
from tests.helpers import source


def plan(goal, action):
    return {"goals": [{"goal": goal, "expected": f"{goal} as planned", "attainment": 0}],
            "actions": [{"action": action, "owner": "Worker", "due": "2026-09-01"}]}


def test_no_history_means_no_carry_forward(make_workbook):
    ids = prompt_index(load_notebook(make_workbook()))
    assert not any(i.startswith("cf_") for i in ids)


def test_previous_session_is_chosen_by_date_not_file_name(make_workbook, store):
    old = make_workbook(date="2026-01-10")
    fill(old, plan("Old goal", "Old action"))
    new = make_workbook(date="2026-02-10")
    fill(new, plan("Recent goal", "Recent action"))
    # file names now sort the other way round from the dates
    old.rename(old.with_name("z-renamed.ipynb"))
    old.with_name(old.stem + ".journal.jsonl").rename(
        old.with_name("z-renamed.journal.jsonl"))
    new.rename(new.with_name("a-renamed.ipynb"))
    new.with_name(new.stem + ".journal.jsonl").rename(new.with_name("a-renamed.journal.jsonl"))
    nb = load_notebook(make_workbook(date="2026-03-01"))
    prompts = prompt_index(nb)
    label = prompts["cf_actions_1_status"]["label"]
    assert label == "Action: Recent action (Who: Worker; Due by: 2026-09-01)"
    assert prompts["cf_goals_1_score"]["context"]["item"]["goal"] == "Recent goal"
    assert prompts["cf_goals_1_score"]["min"] == -2
    order = [s["id"] for s in nb["metadata"][META]["prompt_set"]["sections"]]
    assert order.index("carry_forward") < order.index("safeguarding")  # first in the case
    # later sessions never feed an earlier one
    older = prompt_index(load_notebook(old.with_name("z-renamed.ipynb")))
    assert "cf_actions_1_status" not in older


def test_unfinished_carried_actions_carry_again(make_workbook):
    fill(make_workbook(date="2026-01-10"), plan("G", "Phone the school"))
    second = make_workbook(date="2026-02-10")
    fill(second, {"cf_actions_1_status": "Not done", "goals": plan("G", "x")["goals"]})
    prompts = prompt_index(load_notebook(make_workbook(date="2026-03-10")))
    labels = [p["label"] for p in prompts.values() if p["id"].startswith("cf_actions_")]
    assert labels == ["Action: Phone the school (Who: Worker; Due by: 2026-09-01)"]


def test_unreadable_earlier_workbook_is_a_visible_note(make_workbook, store):
    fill(make_workbook(date="2026-01-10"), plan("G", "A"))
    (store / "case-01").mkdir(exist_ok=True)
    (store / "case-01" / "2026-01-20-broken.ipynb").write_text("{truncated")
    nb = load_notebook(make_workbook(date="2026-03-01"))
    assert "could not be read" in source(nb["cells"][0])
    assert "cf_goals_1_score" in prompt_index(nb)


def _carried(path, kind):
    prompts = prompt_index(load_notebook(path))
    return {p["context"]["item"][p["carried"]["text"]]: pid for pid, p in prompts.items()
            if (p.get("carried") or {}).get("as") == kind}


def test_a_goal_comes_back_until_scored_at_the_expected_level(make_workbook):
    """GAS goals are reviewed over several sessions without being typed again: a goal not
    scored, or scored below 0, comes back; one scored 0 or above is met and stays met."""
    goals = [{"goal": g, "level_minus1": "less", "expected": "as planned", "level_plus1": "more"}
             for g in ("Not scored", "Below", "Met", "Beyond")]
    fill(make_workbook(date="2026-01-10"), {"goals": goals})
    second = make_workbook(date="2026-02-10")
    ids = _carried(second, "goals")
    assert list(ids) == ["Not scored", "Below", "Met", "Beyond"]
    fill(second, {ids["Below"]: -1, ids["Met"]: 0, ids["Beyond"]: 2})
    mark_not_discussed(second, ids["Not scored"], "ran out of time")
    third = make_workbook(date="2026-03-10")
    again = _carried(third, "goals")
    assert list(again) == ["Not scored", "Below"]
    prompt = prompt_index(load_notebook(third))[again["Below"]]
    assert "Somewhat less than expected: less" in prompt["anchors"]["-1"]  # levels kept
    fill(third, {again["Below"]: 0})
    assert list(_carried(make_workbook(date="2026-04-10"), "goals")) == ["Not scored"]


def test_an_item_written_again_comes_back_once_from_the_newer_row(make_workbook):
    fill(make_workbook(date="2026-01-10"), plan("Keeps the tenancy", "Phone the school"))
    second = make_workbook(date="2026-02-10")
    ids = _carried(second, "goals")
    fill(second, {ids["Keeps the tenancy"]: -1, **{
        "goals": [{"goal": "Keeps  the TENANCY", "expected": "Rent paid for three months"}]}})
    third = prompt_index(load_notebook(make_workbook(date="2026-03-10")))
    goals = [p for p in third.values() if (p.get("carried") or {}).get("as") == "goals"]
    assert len(goals) == 1
    assert goals[0]["context"]["item"]["expected"] == "Rent paid for three months"


def test_an_action_no_longer_needed_is_closed(make_workbook):
    fill(make_workbook(date="2026-01-10"), {"actions": [
        {"action": "Phone the school", "owner": "Worker"},
        {"action": "Book the interpreter", "owner": "Worker"}]})
    second = make_workbook(date="2026-02-10")
    ids = _carried(second, "actions")
    options = prompt_index(load_notebook(second))[ids["Phone the school"]]["options"]
    assert "No longer needed" in options
    fill(second, {ids["Phone the school"]: "No longer needed",
                  ids["Book the interpreter"]: "Partly done"})
    assert list(_carried(make_workbook(date="2026-03-10"), "actions")) == [
        "Book the interpreter"]
