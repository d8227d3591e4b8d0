"""Workshop workbooks in the browser: "Download my workbook" is ONE click that downloads the
answers as saved, and uploading that file into a fresh server restores them (with the right
count shown)."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from supervision_kit import workshop as ws
from supervision_kit.core.workbook import notebook_answers
from tests.e2e.conftest import REPORT, journal_answers, wait_journal

ANSWER = "The pause before the boy answered; I kept thinking about it."


def test_download_is_one_click_and_upload_restores(lab, page, context, tmp_path):
    first = ws.generate("the-quiet-room", lab.root / "ws-first", participants=1)
    nb = first["workbooks"][0]
    lab.open(page, nb)
    lab.run_all(page, "ws_stood_out")
    page.locator(".sk-download-panel").wait_for()
    box = page.locator(".sk-prompt-ws_stood_out textarea")
    box.scroll_into_view_if_needed()
    box.fill(ANSWER)
    wait_journal(nb, lambda a: a.get("ws_stood_out") == ANSWER)
    link = page.locator("a.sk-download")
    expect(link).to_have_attribute("href", re.compile("^data:application/x-ipynb"))
    page.wait_for_timeout(1500)  # the link is rebuilt about a second after each saved change
    link.scroll_into_view_if_needed()
    with page.expect_download() as info:
        link.click()  # ONE click: the link is the download
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert re.fullmatch(r"P01-workshop-\d{4}-\d{2}-\d{2}-\d{4}\.ipynb", saved.name)
    answers = notebook_answers(json.loads(saved.read_text()))
    assert answers["ws_stood_out"]["v"] == ANSWER
    page.close()  # the server is culled: everything on it is gone
    lab.shutdown_kernels()

    # a new server: the same participant's fresh workbook, then the upload
    second = ws.generate("the-quiet-room", lab.root / "ws-second", participants=1)
    fresh = second["workbooks"][0]
    page = context.new_page()
    lab.open(page, fresh)
    lab.run_all(page, "ws_stood_out")
    panel = page.locator(".sk-download-panel")
    panel.wait_for()
    upload = panel.locator(".widget-upload")
    upload.scroll_into_view_if_needed()
    with page.expect_file_chooser() as chooser:
        upload.click()
    chooser.value.set_files(str(saved))
    message = panel.locator(".sk-upload-message")
    expect(message).to_contain_text(f"Restored 1 answer from {saved.name}")
    expect(page.locator(".sk-prompt-ws_stood_out textarea")).to_have_value(ANSWER)
    expect(upload).to_have_text(re.compile(r"Upload my earlier workbook \(0\)$"))
    assert journal_answers(fresh)["ws_stood_out"] == ANSWER
    header = page.locator(".jp-MarkdownCell").first.text_content()
    assert header.lower().count("learning aims") == 1
    REPORT["workshop download"] = "one click downloads the saved answers; upload restores them"
