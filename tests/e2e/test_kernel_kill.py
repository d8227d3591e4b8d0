"""SIGKILL the kernel while typing: everything typed before the last debounce window is kept."""

from __future__ import annotations

import contextlib
import os
import signal
import time

from playwright.sync_api import expect

from supervision_kit.core.journal import DebouncedWriter
from tests.e2e.conftest import REPORT, cli_answers, journal_answers, kernel_pid

# The writer flushes at the latest max_wait after the first unsaved change, even while typing
# goes on; allow a little more for the keystroke to travel browser -> server -> kernel.
WINDOW = DebouncedWriter.__init__.__kwdefaults__["max_wait"] + 0.5


def test_sigkill_while_typing_keeps_all_but_the_last_window(lab, page, lab_workbook):
    nb = lab_workbook()
    lab.open(page, nb)
    lab.run_all(page, "story")
    pid = kernel_pid(nb)
    story = page.locator(".sk-prompt-story textarea")
    story.click()
    text = ("After the visit to demo-07 I noticed how quickly I moved to solutions; "
            "next time I will ask the mother what she has already tried before I suggest.")
    stamps = []
    for ch in text[:110]:  # ~3.5 s of steady typing, never pausing long enough to debounce
        page.keyboard.type(ch)
        stamps.append(time.monotonic())
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    page.keyboard.type(text[110:120])  # typed into a dead kernel: may be lost by design

    saved = journal_answers(nb).get("story") or ""
    assert text.startswith(saved), "the journal holds text that was never typed"
    must_have = sum(t <= killed - WINDOW for t in stamps)
    assert must_have > 30  # the test typed long enough to mean something
    assert len(saved) >= must_have, (
        f"lost characters typed more than {WINDOW} s before the kill: kept {len(saved)}, "
        f"needed {must_have}")
    REPORT["SIGKILL while typing"] = (
        f"kept {len(saved)} of {len(stamps)} characters typed before the kill "
        f"(required >= {must_have}: all typed more than {WINDOW:.1f} s before it)")

    # JupyterLab restarts the dead kernel (its dialog says so); run the workbook again.
    dialog = page.locator(".jp-Dialog")
    with contextlib.suppress(Exception):
        dialog.wait_for(state="visible", timeout=10_000)
        dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    lab.run_all(page, "story")
    assert kernel_pid(nb) != pid
    expect(page.locator(".sk-prompt-story textarea")).to_have_value(saved)
    assert cli_answers(nb)["story"] == saved
