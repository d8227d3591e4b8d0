"""Closing the tab without saving loses nothing: reopened, every widget shows its answer."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import wait_journal
from tests.e2e.test_capture import radio


def test_close_without_saving_then_reopen_restores_every_widget(lab, page, lab_workbook):
    nb = lab_workbook()
    before = nb.read_bytes()
    lab.open(page, nb)
    lab.run_all(page, "story")
    page.locator(".sk-prompt-story textarea").fill("Talked through the case of demo-06.")
    page.locator(".sk-prompt-headline input").fill("A calmer week")
    radio(page, "mood", "2 · Hard").click()
    radio(page, "pick", "Yes").click()
    page.locator(".sk-prompt-many label").filter(has_text="Green").locator("input").check()
    page.locator(".sk-prompt-score input").fill("7")
    expected = {"story": "Talked through the case of demo-06.", "headline": "A calmer week",
                "mood": 2, "pick": "Yes", "many": ["Green"], "score": 7}
    wait_journal(nb, lambda a: all(a.get(k) == v for k, v in expected.items()))

    lab.close_tab(page, save=False)
    lab.shutdown_kernels()  # nothing survives in memory either
    assert nb.read_bytes() == before, "the notebook file was saved"

    lab.open(page, nb)
    lab.run_all(page, "story")
    expect(page.locator(".sk-prompt-story textarea")).to_have_value(expected["story"])
    expect(page.locator(".sk-prompt-headline input")).to_have_value(expected["headline"])
    expect(radio(page, "mood", "2 · Hard")).to_be_checked()
    expect(radio(page, "pick", "Yes")).to_be_checked()
    expect(radio(page, "pick", "No")).not_to_be_checked()
    many = page.locator(".sk-prompt-many label")
    expect(many.filter(has_text="Green").locator("input")).to_be_checked()
    expect(many.filter(has_text="Red").locator("input")).not_to_be_checked()
    expect(page.locator(".sk-prompt-score input")).to_have_value("7")
    # pick=Yes, so the conditional prompt is shown again after the reopen
    expect(page.locator(".sk-prompt-detail textarea")).to_be_visible()
