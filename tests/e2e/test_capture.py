"""Typing, a scale and a choice reach the journal on disk within a second of the last change."""

from __future__ import annotations

import json
import re
import statistics
import time

from tests.e2e.conftest import REPORT, cli_answers, journal_answers, wait_journal

DEADLINE = 1.0  # s, the capture promise: on disk within 1 s of the last change
EDITS = 24  # keystrokes timed one by one for the latency record


def radio(page, pid, label):
    """The radio button of prompt ``pid`` whose label is exactly ``label``."""
    return page.locator(f".sk-prompt-{pid} label").filter(
        has_text=re.compile(f"^{re.escape(label)}$")).locator("input")


def test_answers_reach_the_journal_within_a_second(lab, page, lab_workbook, tmp_path):
    nb = lab_workbook()
    lab.open(page, nb)
    lab.run_all(page, "story")
    story = page.locator(".sk-prompt-story textarea")
    story.scroll_into_view_if_needed()
    story.click()
    text = "Home visit with demo-05; the older brother answered the door."
    page.keyboard.type(text, delay=15)
    radio(page, "mood", "4 · Good").click()
    radio(page, "pick", "Not sure").click()
    last = time.monotonic()
    expected = {"story": text, "mood": 4, "pick": "Not sure"}
    answers, _ = wait_journal(nb, lambda a: all(a.get(k) == v for k, v in expected.items()))
    took = time.monotonic() - last
    assert took <= DEADLINE, f"answers reached the journal {took:.2f} s after the last change"
    got = cli_answers(nb)
    assert {k: got.get(k) for k in expected} == expected

    # Latency record: one keystroke at a time, from the key press to the value on disk.
    story.click()
    page.keyboard.press("End")
    latencies = []
    for i in range(EDITS):
        ch = "abcdefghijklmnopqrstuvwxyz"[i % 26]
        text += ch
        page.keyboard.type(ch)
        _, took = wait_journal(nb, lambda a, t=text: a.get("story") == t)
        latencies.append(took)
    assert journal_answers(nb)["story"] == text
    stats = {"edits": len(latencies), "median_s": round(statistics.median(latencies), 3),
             "max_s": round(max(latencies), 3), "min_s": round(min(latencies), 3),
             "samples_s": [round(x, 3) for x in latencies]}
    out = tmp_path / "latency.json"
    out.write_text(json.dumps(stats, indent=1))
    REPORT["keystroke -> journal latency"] = (
        f"median {stats['median_s']} s, max {stats['max_s']} s over {stats['edits']} edits "
        f"({out})")
    print(REPORT["keystroke -> journal latency"])
