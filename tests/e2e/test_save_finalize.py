"""A normal save keeps the answers in the .ipynb; finalize afterwards loses nothing."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from supervision_kit.core.workbook import ANSWER_MIME, META, load_notebook
from tests.e2e.conftest import cli_answers, mirror, wait_journal
from tests.e2e.test_capture import radio
from tests.helpers import run_cli


def saved_answers(nb):
    """Answers in the .ipynb's outputs (custom MIME), read as plain JSON."""
    found = {}
    for cell in json.loads(nb.read_text())["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {}).get(ANSWER_MIME)
            if data and data.get("value") is not None:
                found[data["id"]] = data["value"]
    return found


def test_save_then_finalize_keeps_every_answer(lab, page, lab_workbook):
    nb = lab_workbook()
    lab.open(page, nb)
    lab.run_all(page, "story")
    page.locator(".sk-prompt-story textarea").fill("Supervision notes about demo-08.")
    radio(page, "mood", "5 · Very good").click()
    radio(page, "pick", "No").click()
    expected = {"story": "Supervision notes about demo-08.", "mood": 5, "pick": "No"}
    wait_journal(nb, lambda a: all(a.get(k) == v for k, v in expected.items()))
    # the mirrors below the widgets show what is on disk
    expect(mirror(page, nb, "story")).to_contain_text("demo-08")
    expect(mirror(page, nb, "pick")).to_contain_text("No")

    lab.save(page)
    assert {k: saved_answers(nb).get(k) for k in expected} == expected

    # While the workbook is open, finalize refuses rather than racing the browser.
    code, _, err = run_cli("finalize", nb)
    assert code == 1 and "open in a running kernel" in err

    lab.close_and_shut_down(page, nb)
    code, out, err = run_cli("finalize", nb)
    assert code == 0, err
    assert load_notebook(nb)["metadata"][META].get("finalized")
    assert {k: saved_answers(nb).get(k) for k in expected} == expected
    assert {k: cli_answers(nb).get(k) for k in expected} == expected

    # Reopen, run and save again: no "File Changed" conflict, nothing lost.
    lab.open(page, nb)
    lab.run_all(page, "story")
    expect(page.locator(".sk-prompt-story textarea")).to_have_value(expected["story"])
    lab.save(page)
    assert page.get_by_text("File Changed").count() == 0
    assert {k: saved_answers(nb).get(k) for k in expected} == expected
