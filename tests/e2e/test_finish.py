"""Finished without a terminal: check what is missing, sign as worker and supervisor, and save
the complete record, all from the workbook's buttons; the state is always shown plainly, and
the files on disk agree with the CLI."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from supervision_kit.core.workbook import ANSWER_MIME, load_notebook, open_record, prompt_index
from tests.e2e.conftest import REPORT, wait_journal
from tests.helpers import run_cli


def give(page, pid: str, p: dict) -> None:
    """Answer one prompt in the page, as a person would."""
    box = page.locator(f".sk-prompt-{pid}")
    box.scroll_into_view_if_needed()
    if p["kind"] in ("long_text", "short_text"):
        box.locator("textarea, input").first.fill(f"Answer to {pid}: what happened and why.")
    elif p["kind"] == "number":
        box.locator("input").first.fill("60")
    elif p["kind"] in ("choice", "scale"):
        box.locator("input[type=radio]").first.check()
    elif p["kind"] == "multi":
        box.locator("input[type=checkbox]").first.check()
    elif p["kind"] == "date":
        box.locator("input[type=date]").first.fill("2026-04-01")
    else:
        raise AssertionError(f"{pid}: no way to answer a {p['kind']} here")


def test_check_sign_lock_and_save_the_complete_record(lab, page, lab_workbook):
    from supervision_kit.signoff import missing_required

    nb = lab_workbook(case="finish-01", template="session")
    prompts = prompt_index(load_notebook(nb))
    required = {pid: prompts[pid] for pid, _label in missing_required(open_record(nb))}
    assert required, "the session template has required prompts"
    lab.open(page, nb)
    lab.run_all(page, "wellbeing")
    finish = page.locator(".sk-finish")
    finish.wait_for()
    status = page.locator(".sk-status")
    expect(status).to_contain_text(f"Incomplete: {len(required)} required answer")

    # (a) check completeness: the list names every missing question
    finish.get_by_role("button", name="Check what is missing").click()
    listing = finish.locator(".sk-missing")
    for p in required.values():
        expect(listing).to_contain_text(p["label"][:60])

    # signing refuses while answers are missing, and says which
    finish.get_by_role("button", name="Sign as worker").click()
    expect(finish).to_contain_text("not signed")
    assert "worker" not in open_record(nb).state.signed

    for pid, p in required.items():
        give(page, pid, p)
    wait_journal(nb, lambda a: all(a.get(pid) not in (None, "", []) for pid in required))
    expect(status).to_contain_text("Draft: every required answer is given, ready to sign")

    # (b) sign as worker, then as supervisor: waiting, then locked
    names = finish.get_by_role("textbox")
    assert names.nth(0).input_value() == "W. Test" and names.nth(1).input_value() == "S. Test"
    finish.get_by_role("button", name="Sign as worker").click()
    state = finish.locator(".sk-state")
    expect(state).to_contain_text("Signed by W. Test (worker); waiting for the supervisor")
    expect(status).to_contain_text("waiting for the supervisor")
    finish.get_by_role("button", name="Sign as supervisor").click()
    expect(state).to_contain_text("Locked: signed by W. Test (worker) and S. Test (supervisor)")
    expect(status).to_contain_text("Locked")
    first = next(pid for pid, p in required.items() if p["kind"] == "long_text")
    expect(page.locator(f".sk-prompt-{first} textarea")).to_be_disabled()

    # (c) save the complete record: JupyterLab's own Save, then the kernel checks the file
    save = page.locator(".sk-save-record")
    save.scroll_into_view_if_needed()
    save.click()
    expect(page.locator(".sk-file")).to_contain_text("holds all", timeout=15_000)
    assert page.locator(".jp-Dialog").count() == 0  # no "run this command?" question
    page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()  # more room
    finish.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(500)
    lab.shot(page, "finish")
    saved = {o["data"][ANSWER_MIME]["id"]: o["data"][ANSWER_MIME]["value"]
             for c in json.loads(nb.read_text())["cells"] for o in c.get("outputs", [])
             if ANSWER_MIME in o.get("data", {})}
    assert all(saved[pid] not in (None, "", []) for pid in required)
    # the CLI is an equal path and agrees
    code, out, err = run_cli("verify", nb)
    assert code == 0, out + err
    code, out, err = run_cli("responses", nb)
    assert code == 0 and all(json.loads(out)["answers"].get(pid) not in (None, "", [])
                             for pid in required)
    REPORT["finish panel"] = ("check → sign refused (list shown) → fill → sign ×2 → locked → "
                              "Save the complete record: file holds every answer, verify OK")
