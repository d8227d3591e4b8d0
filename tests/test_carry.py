from supervision_kit.core.workbook import META, load_notebook, prompt_index
from supervision_kit.record import fill
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
