"""Kernel-side capture: execute a real workbook with nbclient and drive its widgets."""

import json
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from supervision_kit.core import journal as jr
from supervision_kit.core.store import journal_path
from supervision_kit.core.workbook import ANSWER_MIME, read_answers
from supervision_kit.record import fill
from tests.helpers import answer_cell, cell_prompts

pytestmark = pytest.mark.timeout(180)


class Kernel:
    """A workbook executed cell by cell in a live kernel, which stays up for more code."""

    def __init__(self, path: Path):
        self.nb = nbformat.read(path, as_version=4)
        self.client = NotebookClient(self.nb, timeout=60, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})

    def __enter__(self):
        self._ctx = self.client.setup_kernel()
        self._ctx.__enter__()
        for i, cell in enumerate(self.nb.cells):
            self.client.execute_cell(cell, i)
        return self

    def __exit__(self, *exc):
        self._ctx.__exit__(*exc)

    def run(self, code: str):
        cell = nbformat.v4.new_code_cell(code)
        self.nb.cells.append(cell)
        self.client.execute_cell(cell, len(self.nb.cells) - 1)
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, errors
        return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")

    def outputs(self, pid: str):
        """``pid``'s outputs in its section's cell: the section's widgets (one output), then
        its own answer mirror."""
        outs = answer_cell(self.nb, pid).outputs
        return [outs[0], next(o for o in outs
                              if o.get("data", {}).get(ANSWER_MIME, {}).get("id") == pid)]


def source_of(text):
    """Saved notebooks may hold multi-line strings as lists of lines."""
    return "".join(text) if isinstance(text, list) else text


def wait_for(predicate, timeout=1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_every_prompt_renders_as_a_widget_with_a_mirror(kinds_workbook):
    with Kernel(kinds_workbook) as k:
        errors = [o for c in k.nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
        assert not errors
        kinds = json.loads(k.run(
            "import json; print(json.dumps({p: type(f.widget).__name__ "
            "for p, f in wb.fields.items()}))"))
        assert kinds == {"story": "Textarea", "headline": "Text", "mood": "RadioButtons",
                         "pick": "RadioButtons", "many": "VBox", "when": "DatePicker",
                         "score": "Text", "detail": "Textarea", "rows": "VBox"}
        for pid in kinds:
            data = [o["data"] for o in k.outputs(pid) if "data" in o]
            assert "application/vnd.jupyter.widget-view+json" in data[0]
            assert data[1][ANSWER_MIME]["id"] == pid and "text/markdown" in data[1]


def test_changes_reach_the_journal_within_a_second_and_update_the_mirror(kinds_workbook):
    with Kernel(kinds_workbook) as k:
        t0 = time.monotonic()
        k.run('wb.fields["story"].widget.value = "Typed in the kernel <b>bold</b>"\n'
              'wb.fields["mood"].widget.value = 4\n'
              'wb.fields["pick"].widget.value = "Yes"\n'
              'wb.fields["many"].widget.children[2].value = True\n'
              # stay in this cell while the debounced write happens, so nbclient sees the
              # display updates it sends (a browser applies them at any time)
              'import time; time.sleep(0.6)')
        ok = wait_for(lambda: len(jr.read_journal(journal_path(kinds_workbook)).answers()) == 4)
        assert ok, "journal did not hold the answers within 1 s"
        assert time.monotonic() - t0 < 2.0
        assert read_answers(kinds_workbook)["answers"] == {
            "story": "Typed in the kernel <b>bold</b>", "mood": 4, "pick": "Yes",
            "many": ["Blue"]}
        mirror = k.outputs("story")[1]["data"]
        assert mirror[ANSWER_MIME]["value"] == "Typed in the kernel <b>bold</b>"
        assert "&lt;b&gt;bold&lt;/b&gt;" in mirror["text/markdown"]
        # the show_if prompt appears once its condition holds, and hides again without it
        assert k.run('print(wb.fields["detail"].shown)').strip() == "True"
        k.run('wb.fields["pick"].widget.value = "No"')
        shown = json.loads(k.run("import json; print(json.dumps({p: [f.shown, "
                                 "'sk-off' in f.box._dom_classes, len(f.box.children)] "
                                 "for p, f in wb.fields.items()}))"))
        assert shown.pop("detail") == [False, True, 1]  # one quiet line
        assert all(v[0] and not v[1] for v in shown.values())  # hiding one never hides another


def test_each_input_is_labelled_by_its_question_and_widgets_are_few(kinds_workbook):
    """The question is each input's own description (a <label for>, text only); help sits in
    the box; layouts and styles are shared, so a prompt costs a handful of widget models."""
    with Kernel(kinds_workbook) as k:
        info = json.loads(k.run(
            "import json, ipywidgets as W\n"
            "out = {}\n"
            "for p, f in wb.fields.items():\n"
            "    w = f.widget\n"
            "    out[p] = [getattr(w, 'description', None), "
            "getattr(w, 'description_allow_html', None), "
            "[c._dom_classes for c in f.box.children]]\n"
            "from ipywidgets.widgets.widget import _instances\n"
            "out['_models'] = len(_instances)\n"
            "print(json.dumps(out))"))
    models = info.pop("_models")
    assert info["story"][:2] == ["Describe what happened", False]
    assert info["mood"][:2] == ["How was it?", False] and info["when"][0] == "Review date"
    assert info["headline"][0] == "One line" and info["score"][0] == "A score"
    assert ["sk-help"] in info["story"][2]  # help under the question
    assert info["many"][0] is None  # several checkboxes: each named by its option
    assert models < 12 * len(info), models  # was ~11 per prompt before sharing


def test_question_shows_before_run_and_stays_in_the_finalized_record(kinds_workbook):
    """Before Run All each prompt cell shows its question; finalize keeps it above the answer."""
    from supervision_kit.core.workbook import load_notebook
    from supervision_kit.record import finalize

    nb = load_notebook(kinds_workbook)
    cell = answer_cell(nb, "story")
    first = cell_prompts(cell).index("story")  # one question output per prompt, in order
    assert source_of(cell["outputs"][first]["data"]["text/plain"]) == "Describe what happened"
    assert "<b>Describe what happened</b>" in source_of(
        cell["outputs"][first]["data"]["text/html"])
    fill(kinds_workbook, {"story": "It went well"})
    finalize(kinds_workbook)
    nb = load_notebook(kinds_workbook)
    cell = answer_cell(nb, "story")
    first = 2 * cell_prompts(cell).index("story")  # question, answer per prompt
    assert [source_of(o["data"].get("text/plain")) for o in cell["outputs"]][first:first + 2] == [
        "Describe what happened", "Describe what happened: It went well"]


def test_table_rows_can_be_added_and_are_saved(kinds_workbook):
    with Kernel(kinds_workbook) as k:
        k.run('t = wb.fields["rows"].editor\n'
              't.rows[0]["who"].widget.value = "Client"\n'
              't.rows[0]["said"].widget.value = "first"\n'
              't.add.click()\n'
              't.rows[1]["said"].widget.value = "second"\n'
              't.rows[1]["level"].widget.value = -2\n'
              'wb.flush()')
        rows = read_answers(kinds_workbook)["answers"]["rows"]
        assert [r["said"] for r in rows] == ["first", "second"]
        assert rows[1]["level"] == -2 and rows[0]["who"] == "Client"


def test_rerun_restores_every_widget_from_the_journal(kinds_workbook):
    fill(kinds_workbook, {"story": "saved before", "mood": 2, "many": ["Red", "Blue"],
                          "when": "2026-07-01", "score": 3.5,
                          "rows": [{"who": "Worker", "said": "hello"}]})
    with Kernel(kinds_workbook) as k:
        values = json.loads(k.run(
            "import json; print(json.dumps({p: f.value for p, f in wb.fields.items()}))"))
    assert values["story"] == "saved before" and values["mood"] == 2
    assert values["many"] == ["Red", "Blue"] and values["when"] == "2026-07-01"
    assert values["score"] == 3.5 and values["rows"][0]["said"] == "hello"
    assert values["detail"] in ("", None)  # a hidden conditional prompt: no editor yet


def test_invalid_input_is_not_saved_and_is_reported(kinds_workbook):
    with Kernel(kinds_workbook) as k:
        k.run('wb.fields["score"].widget.value = "twelve"\nwb.flush()')
        assert "score" not in read_answers(kinds_workbook)["answers"]
        assert "expected a number" in k.run("print(wb.status.value)")


def test_kernel_marks_the_workbook_open_and_clears_it_on_close(kinds_workbook):
    from supervision_kit.core.markers import kernel_marker, open_in_kernel

    with Kernel(kinds_workbook) as k:
        assert open_in_kernel(kinds_workbook)
        k.run("wb.close()")
        assert not kernel_marker(kinds_workbook).exists()


def test_kernel_ui_uses_icons_not_emoji(kinds_workbook):
    """Status, panels and warnings use text and Font Awesome icons (ship with JupyterLab and
    Voila), never emoji that render as empty boxes without an emoji font."""
    import re

    emoji = re.compile("[\U0001f000-\U0001faff\u2b50\u2705\u274c\u2728\ufe0f]")
    with Kernel(kinds_workbook) as k:
        k.run('wb._changed("story", "Call 07700 900123 about it")\nwb.flush()')
        k.run("wb.finish_panel()")
        texts = [json.dumps(o.get("data", {}), ensure_ascii=False) for c in k.nb.cells
                 for o in c.get("outputs", [])]
        texts.append(k.run("print(wb.status.value)"))
        texts.append(k.run('print(wb.fields["story"].note.value)'))
    assert "fa fa-" in "".join(texts)
    assert not emoji.search("".join(texts))
