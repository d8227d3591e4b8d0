"""Markup typed as an answer is shown as text in the output mirror, never run."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import mirror, wait_journal

NASTY = ("<script>alert(1)</script> **not bold** <img src=x onerror=alert(2)> "
         "[link](javascript:alert(3))")


def test_script_and_markdown_in_an_answer_are_shown_as_text(lab, page, lab_workbook):
    nb = lab_workbook()
    lab.open(page, nb)
    lab.run_all(page, "story")
    page.locator(".sk-prompt-story textarea").fill(NASTY)
    wait_journal(nb, lambda a: a.get("story") == NASTY)
    shown = mirror(page, nb, "story")
    expect(shown).to_contain_text("<script>alert(1)</script>")
    expect(shown).to_contain_text("**not bold**")
    expect(shown).to_contain_text("<img src=x onerror=alert(2)>")
    expect(shown).to_contain_text("[link](javascript:alert(3))")
    for tag in ("script", "img", "strong", "a"):
        assert shown.locator(tag).count() == 0, f"<{tag}> rendered from the answer"
    page.wait_for_timeout(500)  # give any injected handler the chance to fire
    assert page.dialogs == []
