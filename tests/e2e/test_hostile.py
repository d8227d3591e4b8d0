"""Text from answers is inert in a real browser (issue 12): hostile action and goal text,
carried forward into the next session, runs nothing in JupyterLab or in app mode (Voila)."""

from __future__ import annotations

import pytest

from supervision_kit.record import fill
from tests.e2e.conftest import app_server
from tests.e2e.test_app_mode import app_page  # noqa: F401 - a fixture used below

PAYLOADS = ["<img src=x onerror=alert('img')>", "<script>alert('script')</script>",
            "<svg onload=alert('svg')>", "[click](javascript:alert('md'))"]


@pytest.fixture
def hostile_next_session(lab_workbook, request):
    """A first session whose goals and actions are hostile text, then the next session (made
    by `new`, so the text is carried into its labels and help)."""
    case = "e2e-hostile-" + ("app" if "app_mode" in request.node.name else "lab")
    first = lab_workbook(case=case, template="session", date="2026-02-02")
    fill(first, {
        "goals": [{"goal": PAYLOADS[0], "expected": PAYLOADS[1], "attainment": 0}],
        "actions": [{"action": PAYLOADS[2], "owner": "Worker"},
                    {"action": PAYLOADS[3], "owner": "Worker"}],
    })
    return lab_workbook(case=case, template="session", date="2026-03-02")


def _carried_labels_shown(page) -> str:
    body = page.locator("body").inner_text()
    assert "onerror=alert('img')" in body  # shown as text, literally
    return body


def test_carried_hostile_text_runs_nothing_in_app_mode(hostile_next_session, app_page,  # noqa: F811
                                                       e2e_dir):
    with app_server(hostile_next_session, e2e_dir / "app-hostile") as url:
        page = app_page
        page.goto(url)
        page.locator(".sk-prompt").first.wait_for(state="visible", timeout=120_000)
        page.wait_for_timeout(1500)  # let any injected handler fire
        _carried_labels_shown(page)
        assert page.locator("img[src='x']").count() == 0
        assert page.locator("svg[onload]").count() == 0
        assert page.locator("a[href^='javascript:']").count() == 0
    # app_page asserts that no dialog fired while the page was open


def test_carried_hostile_text_runs_nothing_in_jupyterlab(hostile_next_session, lab, page):
    lab.open(page, hostile_next_session)
    lab.run_all(page, "worker_agenda")
    page.wait_for_timeout(1500)
    _carried_labels_shown(page)
    assert page.locator(".jp-Notebook img[src='x']").count() == 0
    assert page.dialogs == []
