"""Kernel panels without a browser: where the record stands, the file check, questions."""

import json

import pytest

from supervision_kit.core.workbook import META, load_notebook
from supervision_kit.generate.question import help_html, question_markdown, question_output
from supervision_kit.record import fill
from supervision_kit.signoff import sign

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def wb(kinds_workbook, monkeypatch):
    from supervision_kit.kernel.form import Workbook

    monkeypatch.chdir(kinds_workbook.parent)
    book = Workbook(kinds_workbook)
    yield book
    book.close()


def test_standing_says_plainly_where_the_record_stands(wb, kinds_workbook):
    assert wb.standing().headline() == "Draft: no answers yet"
    wb._changed("story", "Something happened.")
    wb.flush()
    s = wb.standing()
    assert s.kind == "draft" and s.answered == 1 and "ready to sign" in s.headline()
    sign(kinds_workbook, "worker", "W. Test")
    assert wb.refresh_lock() and wb.standing().headline() == (
        "Signed by W. Test (worker); waiting for the supervisor to sign")
    sign(kinds_workbook, "supervisor", "S. Test")
    wb.refresh_lock()
    assert wb.standing().kind == "locked" and wb.standing().headline().startswith("Locked: ")
    assert "fa-lock" in wb.status.value


def test_required_answers_make_it_incomplete(make_workbook, monkeypatch):
    from supervision_kit.kernel.form import Workbook

    path = make_workbook(case="req-01")
    monkeypatch.chdir(path.parent)
    book = Workbook(path)
    try:
        s = book.standing()
        assert s.kind == "incomplete" and s.missing
        assert s.headline() == f"Incomplete: {len(s.missing)} required answers missing"
    finally:
        book.close()


def test_file_state_compares_the_saved_notebook_with_the_answers(wb, kinds_workbook):
    from supervision_kit.kernel.panels import file_state

    wb.ask("story")
    wb._changed("story", "Only in the journal so far.")
    wb.flush()
    complete, text = file_state(wb)
    assert not complete and "does not hold your latest answer yet" in text
    fill(kinds_workbook, {"story": "Only in the journal so far."})
    from supervision_kit.record import finalize

    finalize(kinds_workbook, force=True)  # what a saved notebook holds: every mirror
    complete, text = file_state(wb)
    assert complete and "holds all 1 answer" in text


def test_default_signer_and_the_hub_hook(wb, monkeypatch):
    from supervision_kit.kernel.panels import default_signer
    from supervision_kit.signoff.identity import hub_user

    assert default_signer("worker", wb.info) == "W. Test"
    assert default_signer("supervisor", wb.info) == "S. Test"
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    assert hub_user() is None
    monkeypatch.setenv("JUPYTERHUB_USER", "pnair")
    assert hub_user() == "pnair"


def test_question_text_is_escaped_and_carried_help_is_literal():
    p = {"id": "q", "kind": "long_text", "label": "<b>Why</b> *now*?", "role": "supervisor",
         "required": True, "help": "Use **bold** words", "show_if": {"prompt": "a", "in": ["Y"]}}
    md = question_markdown(p, {"a": "Agreed?"})
    assert "&lt;b&gt;Why&lt;/b&gt; \\*now\\*?" in md and "_for the supervisor_" in md
    assert "_required_" in md and "Only needed if “Agreed?” is “Y”" in md
    html = help_html(p, {"a": "Agreed?"})
    assert "<strong>bold</strong>" in html and "sk-badge" in html
    carried = dict(p, help="<script>x</script> **not bold**", carried={"from": "x"})
    assert "&lt;script&gt;" in help_html(carried, {}) and "<strong>" not in help_html(carried, {})
    out = question_output(p, {})
    assert out["metadata"][META]["question"] == "q" and "&lt;b&gt;" in out["data"]["text/html"]


def test_workbooks_made_before_keep_their_question_cells(kinds_workbook, monkeypatch):
    """A workbook with a markdown cell per question (no ``question`` flag): the kernel leaves
    the label out of the box, so the question is not shown twice."""
    from supervision_kit.kernel.form import Workbook

    nb = load_notebook(kinds_workbook)
    for cell in nb["cells"]:
        cell["metadata"].get(META, {}).pop("question", None)
    kinds_workbook.write_text(json.dumps(nb))
    monkeypatch.chdir(kinds_workbook.parent)
    book = Workbook(kinds_workbook)
    try:
        book.ask("story")
        assert book.fields["story"].widget.description == ""
    finally:
        book.close()
