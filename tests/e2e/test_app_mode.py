"""App mode (Voila): no code, no notebook menus; one prompt filled, saved and read back."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from supervision_kit.core.workbook import ANSWER_MIME, load_notebook, prompt_index
from supervision_kit.launch.app import voila_command
from tests.e2e.conftest import REPORT, app_server, cli_answers, wait_journal
from tests.e2e.test_a11y import SERIOUS, axe, check_names, summary
from tests.e2e.test_ready import READY_APP as READY

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
    ids = list(prompt_index(load_notebook(nb)))
    t0 = time.monotonic()
    page.goto(url)
    page.wait_for_function(READY, arg=ids, polling="raf", timeout=90_000)
    ready = time.monotonic() - t0  # Voila starts a kernel and runs the whole workbook first
    REPORT["app mode: open to interactive (s)"] = (
        f"{ready:.2f} (page request to every prompt and the finish panel; includes Voila "
        "starting a kernel)")
    box = page.locator(".sk-prompt-wellbeing textarea")
    box.wait_for(state="visible")
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

    # accessible in app mode too: axe-core on the whole page, every widget named
    n = check_names(page, nb)
    violations = axe(page)
    bad = [v for v in violations if v["impact"] in SERIOUS]
    REPORT["axe: app mode (Voila)"] = (f"{summary(bad)} serious/critical; all: "
                                      f"{summary(violations)}; {n} widgets named")
    assert not bad, summary(bad)

    # finished without a terminal: here the button writes the record into the .ipynb
    save = page.get_by_role("button", name="Save the complete record")
    save.scroll_into_view_if_needed()
    save.click()
    expect(page.locator(".sk-file")).to_contain_text("Saved: the notebook file now holds",
                                                    timeout=20_000)
    saved = load_notebook(nb)
    assert "finalized" in saved["metadata"]["supervision_kit"]
    assert any(o.get("data", {}).get(ANSWER_MIME, {}).get("value") == ANSWER
               for c in saved["cells"] for o in c.get("outputs", []))
