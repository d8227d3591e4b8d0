"""App mode (Voila): no code, no notebook menus; one prompt filled, saved and read back."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from supervision_kit.launch.app import voila_command
from tests.e2e.conftest import app_server, cli_answers, wait_journal

ANSWER = "Steadier than last month; the new duty rota helps. Still tired on Fridays."


def test_voila_culls_idle_kernels_and_binds_locally(tmp_path):
    cmd = voila_command(tmp_path / "w.ipynb", port=1234, token="t", cull_idle=300)
    assert "--MappingKernelManager.cull_idle_timeout=300" in cmd
    assert any(a.startswith("--MappingKernelManager.cull_interval=") for a in cmd)
    assert "--Voila.ip=127.0.0.1" in cmd and f"--Voila.root_dir={tmp_path}" in cmd


@pytest.fixture
def app(chromium, lab_workbook, e2e_dir):
    """``supervision-kit app NB --no-browser`` running; yields (workbook, url)."""
    nb = lab_workbook(case="demo-09", template="session")
    with app_server(nb, e2e_dir / "app") as url:
        yield nb, url


@pytest.fixture
def app_page(browser, shots_dir, request):
    """A tab in its own browser context: no cookies shared with the JupyterLab server."""
    ctx = browser.new_context(viewport={"width": 900, "height": 760})
    ctx.set_default_timeout(45_000)
    page = ctx.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    yield page
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        path = shots_dir / f"FAILED-{request.node.name}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot of the failure: {path}")
    ctx.close()
    assert dialogs == []


def test_app_mode_fills_one_prompt_and_reads_it_back(app, app_page, lab):
    nb, url = app
    page = app_page
    page.goto(url)
    box = page.locator(".sk-prompt-wellbeing textarea")
    box.wait_for(state="visible", timeout=90_000)  # Voila runs the whole workbook first
    body = page.locator("body").inner_text()
    assert "wb.ask(" not in body and "open_workbook" not in body  # no code on the page
    chrome = ".lm-MenuBar, .jp-Notebook-toolbar, .jp-InputArea-editor, .cm-editor"
    assert page.locator(chrome).count() == 0  # no menus, no code editors
    box.fill(ANSWER)
    wait_journal(nb, lambda a: a.get("wellbeing") == ANSWER)

    page.reload()  # a new visit: a new kernel, restored from the journal
    expect(page.locator(".sk-prompt-wellbeing textarea")).to_have_value(ANSWER, timeout=90_000)
    assert cli_answers(nb)["wellbeing"] == ANSWER
    page.wait_for_timeout(300)
    lab.shot(page, "app-mode")
