import json

import pytest

from supervision_kit.core import journal as jr
from supervision_kit.core.errors import ConflictError, InputError, WorkbookError
from supervision_kit.core.markers import kernel_marker
from supervision_kit.core.mirror import answer_markdown
from supervision_kit.core.store import journal_path
from supervision_kit.core.workbook import ANSWER_MIME, read_answers
from supervision_kit.record import fill, finalize

ANSWERS = {
    "story": "Line one — ünïcødé ✓\nline two\n\n<script>alert(1)</script> **bold** | pipe",
    "headline": "short <img src=x onerror=alert(1)>",
    "mood": 4,
    "pick": "Yes",
    "many": ["Green", "Red"],
    "when": "2026-05-01",
    "score": 17,
    "rows": [{"who": "Worker", "said": "Hello\nthere", "level": -1, "due": "2026-06-01"},
             {"who": "Client", "said": "| not a column |", "level": 2, "due": None}],
}


def test_fill_responses_finalize_round_trip(kinds_workbook):
    fill(kinds_workbook, ANSWERS)
    got = read_answers(kinds_workbook)["answers"]
    assert got["story"] == ANSWERS["story"]
    assert got["many"] == ["Red", "Green"]  # option order
    assert got["rows"][1] == {"who": "Client", "said": "| not a column |", "level": 2,
                              "due": None}
    finalize(kinds_workbook)
    journal_path(kinds_workbook).unlink()
    assert read_answers(kinds_workbook)["answers"] == got
    # plain json finds every answer without this package
    nb = json.loads(kinds_workbook.read_text())
    plain = {o["data"][ANSWER_MIME]["id"]: o["data"][ANSWER_MIME]["value"]
             for c in nb["cells"] for o in c.get("outputs", []) if ANSWER_MIME in o.get("data", {})}
    assert {k: v for k, v in plain.items() if v is not None} == got


def test_markdown_mirror_shows_html_as_text():
    md = answer_markdown({"id": "s", "kind": "long_text", "label": "L"},
                         "<script>alert(1)</script> **x**")
    assert "<script>" not in md and "&lt;script&gt;" in md and "\\*\\*x\\*\\*" in md


def test_table_markdown_escapes_pipes():
    p = {"id": "r", "kind": "table", "label": "T",
         "columns": [{"id": "a", "label": "A", "kind": "short_text"}]}
    md = answer_markdown(p, [{"a": "x | y"}])
    assert md.splitlines()[-1] == "| x \\| y |"


def test_newest_answer_wins_between_journal_and_notebook(kinds_workbook):
    fill(kinds_workbook, {"headline": "first"})
    finalize(kinds_workbook)
    fill(kinds_workbook, {"headline": "second"})
    assert read_answers(kinds_workbook)["answers"]["headline"] == "second"
    finalize(kinds_workbook)
    journal_path(kinds_workbook).unlink()
    assert read_answers(kinds_workbook)["answers"]["headline"] == "second"


def test_fill_is_all_or_nothing(kinds_workbook):
    with pytest.raises(InputError, match="'mood'"):
        fill(kinds_workbook, {"story": "fine", "mood": 9})
    assert jr.read_journal(journal_path(kinds_workbook)).events == []
    with pytest.raises(InputError, match="unknown prompt id 'nope'"):
        fill(kinds_workbook, {"nope": 1})


def test_fill_records_role(kinds_workbook):
    fill(kinds_workbook, {"when": "2026-01-01", "story": "x"})
    by = {e["id"]: e["by"] for e in jr.read_journal(journal_path(kinds_workbook)).events}
    assert by == {"when": "supervisor", "story": "worker"}


def test_finalize_refuses_while_a_kernel_has_it_open(kinds_workbook):
    import os
    import socket

    kernel_marker(kinds_workbook).write_text(
        json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
    before = kinds_workbook.read_bytes()
    with pytest.raises(ConflictError, match="open in a running kernel"):
        finalize(kinds_workbook)
    assert kinds_workbook.read_bytes() == before
    finalize(kinds_workbook, force=True)


def test_stale_kernel_marker_does_not_block(kinds_workbook):
    kernel_marker(kinds_workbook).write_text(json.dumps({"pid": 2**22 + 7, "host": __import__(
        "socket").gethostname()}))
    finalize(kinds_workbook)


@pytest.mark.parametrize("content, message", [
    (b'{"cells": [', "invalid or truncated JSON"),
    (b"\xff\xfe\x00", "not UTF-8"),
    (b"[1, 2]", "not a Jupyter notebook"),
    (b'{"cells": [], "metadata": {}}', "not a supervision-kit workbook"),
])
def test_corrupt_files_give_clear_errors_and_stay_untouched(tmp_path, content, message):
    p = tmp_path / "x.ipynb"
    p.write_bytes(content)
    for fn in (read_answers, finalize, lambda q: fill(q, {})):
        with pytest.raises(WorkbookError, match=message):
            fn(p)
    assert p.read_bytes() == content
    assert sorted(x.name for x in tmp_path.iterdir()) == ["x.ipynb"] or all(
        x.name.startswith(".") for x in tmp_path.iterdir() if x.name != "x.ipynb")
