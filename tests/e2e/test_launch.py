"""A tidy start: ``supervision-kit open NB`` gives JupyterLab set up for this use (one-document
mode, file browser closed, no news, journals hidden), and on a public host a non-workshop
workbook shows ONE clear message while every other cell stays quiet."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import REPORT, free_port, isolated_env, printed_url, stop


@pytest.fixture
def opened(chromium, e2e_dir, lab_workbook):
    """``supervision-kit open NB --no-browser --port N`` on a public host; yields (nb, url)."""
    nb = lab_workbook(case="open-01", template="session")
    base = e2e_dir / "open"
    env = isolated_env(base)
    env["SUPERVISION_KIT_PUBLIC_HOST"] = "1"  # as on mybinder.org
    log = base / "open.log"
    port = free_port()
    with log.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "supervision_kit", "open", str(nb),
                                 "--no-browser", "--port", str(port)], env=env, stdout=fh,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        url = printed_url(proc, log, r"open this workbook: (http://127\.0\.0\.1:\d+/\S+\?token=\S+)",
                          90)
        token = url.split("token=")[1]
        api = f"http://127.0.0.1:{port}/api/status?token={token}"
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(api, timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        yield nb, url
    finally:
        def shutdown() -> None:
            req = urllib.request.Request(f"http://127.0.0.1:{port}/api/shutdown?token={token}",
                                         method="POST")
            urllib.request.urlopen(req, timeout=10)
        stop(proc, shutdown=shutdown)


def test_open_starts_a_tidy_lab_and_a_public_host_refuses_quietly(opened, browser):
    nb, url = opened
    ctx = browser.new_context(viewport={"width": 1100, "height": 850})
    ctx.set_default_timeout(60_000)
    page = ctx.new_page()
    try:
        page.goto(url)
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook")
        page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\| Idle$")).wait_for()
        page.wait_for_timeout(1500)  # time for a news or update toast to show up (it must not)
        assert page.locator("#main").get_attribute("data-shell-mode") == "single-document"
        assert not page.locator("#jp-left-stack").is_visible()  # the file browser is closed
        assert page.locator(".jp-Notification-Toast, .Toastify__toast").count() == 0
        expect(page.locator(".jp-NotebookPanel .jp-RenderedHTMLCommon").first).to_be_visible()
        # journals, lock files and kernel markers are not listed (Jupyter's hide_globs)
        token = url.split("token=")[1]
        base = url.split("/lab/")[0].split("/doc/")[0]
        listing = json.load(urllib.request.urlopen(
            f"{base}/api/contents/{nb.parent.name}?token={token}"))
        names = [c["name"] for c in listing["content"]]
        assert nb.name in names and names, names
        assert not [n for n in names if n.endswith((".jsonl", ".lock", ".kernel.json"))], names

        # public host: ONE clear message, no traceback, the other cells quiet
        page.locator(".lm-MenuBar-itemLabel:text-is('Run')").click()
        page.locator(".lm-Menu-itemLabel:text-is('Run All Cells')").click()
        notice = page.get_by_role("alert")
        expect(notice).to_contain_text("cannot be opened here")
        page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\| Idle$")).wait_for()
        page.wait_for_timeout(1000)
        assert notice.count() == 1
        assert page.locator("[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
        text = page.locator(".jp-NotebookPanel .jp-Notebook").inner_text()
        assert "NameError" not in text and "Traceback" not in text and "wb.ask" not in text
        assert page.locator(".jp-InputPlaceholder:visible").count() == 0
        assert page.locator(".sk-prompt").count() == 0
        REPORT["supervision-kit open"] = ("single-document mode, file browser closed, no news "
                                          "toast, journals hidden; public host: one message")
    finally:
        ctx.close()
