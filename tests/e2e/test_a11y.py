"""Accessible: axe-core on a session workbook in JupyterLab, every widget named by its question,
keyboard-only filling and signing, and 200 % zoom.

The workbook's own content (rendered markdown and outputs) must have no serious or critical
axe violations (colour contrast included); JupyterLab's own chrome is reported, not failed.
App mode (Voila) is checked in test_app_mode.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from supervision_kit.core.workbook import load_notebook, prompt_index
from tests.e2e.conftest import REPORT, journal_answers, wait_journal

CONTENT = [[".jp-NotebookPanel .jp-RenderedMarkdown"], [".jp-NotebookPanel .jp-OutputArea-output"]]
SERIOUS = ("serious", "critical")


def axe(page: Any, include: list[list[str]] | None = None,
        exclude: list[list[str]] | None = None) -> list[dict[str, Any]]:
    """axe-core's violations (axe-playwright-python bundles axe-core)."""
    from axe_playwright_python.sync_playwright import Axe

    context: dict[str, Any] = {}
    if include:
        context["include"] = include
    if exclude:
        context["exclude"] = exclude
    results = Axe().run(page, context=context or None,
                        options={"resultTypes": ["violations"]})
    return results.response["violations"]


def summary(violations: list[dict[str, Any]]) -> str:
    return "; ".join(f"{v['id']} ({v['impact']}, {len(v['nodes'])})" for v in violations) or "none"


def check_names(page: Any, nb: Path) -> int:
    """Every shown prompt's input (or group of inputs) has the question as its accessible
    name; returns how many were checked."""
    checked = 0
    for pid, p in prompt_index(load_notebook(nb)).items():
        box = page.locator(f".sk-prompt-{pid}")
        if box.get_attribute("class") and "sk-off" in box.get_attribute("class"):
            continue  # a conditional prompt not needed now: one quiet line, no input
        label, kind = str(p["label"]), p["kind"]
        if kind in ("long_text", "short_text", "number"):
            target = box.get_by_role("textbox", name=label, exact=True)
        elif kind in ("scale", "choice"):
            target = box.get_by_role("radiogroup", name=label, exact=True)
        elif kind in ("multi", "table"):
            target = box.get_by_role("group", name=label, exact=True)
        else:  # date
            target = box.get_by_label(label, exact=True)
        assert target.count() == 1, f"{pid} ({kind}): no input named {label!r}"
        checked += 1
    return checked


def test_session_workbook_passes_axe_and_names_every_widget(lab, page, lab_workbook):
    nb = lab_workbook(case="a11y-01", template="session")
    lab.open(page, nb)
    lab.run_all(page, "wellbeing")
    page.locator(".sk-finish").wait_for()
    page.wait_for_timeout(500)
    n = check_names(page, nb)
    content = axe(page, include=CONTENT)
    bad = [v for v in content if v["impact"] in SERIOUS]
    chrome = axe(page, exclude=CONTENT)
    REPORT["axe: workbook content in JupyterLab"] = (
        f"{summary(bad)} serious/critical; all: {summary(content)}; {n} widgets named by their "
        "question")
    REPORT["axe: JupyterLab's own chrome (reported only)"] = summary(
        [v for v in chrome if v["impact"] in SERIOUS])
    print(REPORT["axe: workbook content in JupyterLab"])
    assert not bad, summary(bad) + "\n" + "\n".join(
        f"{v['id']}: {[node['target'] for node in v['nodes'][:5]]}" for v in bad)


def radio(page: Any, pid: str, label: str) -> Any:
    return page.locator(f".sk-prompt-{pid} label").filter(
        has_text=re.compile(f"^{re.escape(label)}$")).locator("input")


def test_keyboard_alone_fills_text_scale_choice_and_signs(lab, page, lab_workbook):
    nb = lab_workbook(case="keys-01")
    lab.open(page, nb)
    lab.run_all(page, "story")
    page.locator(".sk-finish").wait_for()
    page.wait_for_timeout(500)
    # Run All leaves the focus at the top of the form ("Check what is missing")
    expect(page.locator(".sk-status-box button, .sk-out button").first).to_be_focused()

    def tab_to(selector: str, limit: int = 80) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"() => !!document.activeElement.closest('{selector}')"):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to(".sk-prompt-story textarea")
    page.keyboard.type("Typed with the keyboard only.")
    tab_to(".sk-prompt-mood")
    page.keyboard.press("Space")  # the first option, then down to the fourth
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    tab_to(".sk-prompt-pick")
    page.keyboard.press("Space")  # "Yes"
    expect(radio(page, "mood", "4 · Good")).to_be_checked()
    expect(radio(page, "pick", "Yes")).to_be_checked()
    wait_journal(nb, lambda a: a.get("story") == "Typed with the keyboard only."
                 and a.get("mood") == 4 and a.get("pick") == "Yes")
    # ... and on to the worker's Sign button, pressed with Enter
    for _ in range(120):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.includes('Sign as worker')"):
            break
    else:
        raise AssertionError("Tab never reached 'Sign as worker'")
    page.keyboard.press("Enter")
    expect(page.locator(".sk-state")).to_contain_text("Worker: signed by W. Test", timeout=10_000)
    from supervision_kit.core.workbook import open_record

    assert open_record(nb).state.signed["worker"]["name"] == "W. Test"
    assert journal_answers(nb)["mood"] == 4
    assert page.locator(".jp-NotebookPanel .jp-Cell").count() == len(
        load_notebook(nb)["cells"]), "a key reached JupyterLab's notebook shortcuts"


def test_zoom_200_keeps_every_prompt_usable(lab, browser, lab_workbook, shots_dir):
    """The same page at 200 % (half the CSS width, twice the pixels): nothing is cut off
    sideways and a prompt can still be filled."""
    from tests.e2e.conftest import UI_TIMEOUT

    nb = lab_workbook(case="zoom-01", template="session")
    ctx = browser.new_context(viewport={"width": 640, "height": 520}, device_scale_factor=2)
    ctx.set_default_timeout(UI_TIMEOUT)
    page = ctx.new_page()
    try:
        lab.open(page, nb)
        left = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
        if left.count():
            left.click()  # the file browser takes half the width at this size
        lab.run_all(page, "wellbeing")
        page.locator(".sk-finish").wait_for()
        page.wait_for_timeout(500)
        panel = page.locator(".jp-NotebookPanel .jp-WindowedPanel-outer")
        width = panel.evaluate("el => el.getBoundingClientRect().right")
        for pid in prompt_index(load_notebook(nb)):
            box = page.locator(f".sk-prompt-{pid}")
            right = box.evaluate("el => el.getBoundingClientRect().right")
            assert right <= width + 1, f"{pid} is cut off at 200 % zoom ({right} > {width})"
        overflow = panel.evaluate("el => el.scrollWidth - el.clientWidth")
        assert overflow <= 1, f"the workbook scrolls sideways at 200 % zoom ({overflow} px)"
        box = page.locator(".sk-prompt-wellbeing textarea")
        box.scroll_into_view_if_needed()
        box.fill("Readable at twice the size.")
        wait_journal(nb, lambda a: a.get("wellbeing") == "Readable at twice the size.")
        box.evaluate("el => el.closest('.sk-prompt').scrollIntoView({block: 'start'})")
        page.wait_for_timeout(300)
        path = shots_dir / "zoom-200.png"
        page.screenshot(path=str(path))
        REPORT["200 % zoom"] = f"every prompt within the page width; screenshot {path}"
    finally:
        ctx.close()
