"""Every packaged template: valid, generates, renders every prompt, and round-trips."""

import json

import nbformat
import pytest
from nbclient import NotebookClient

from supervision_kit.core.prompts import load_prompt_set
from supervision_kit.core.store import journal_path
from supervision_kit.core.workbook import (
    ANSWER_MIME,
    META,
    load_notebook,
    prompt_index,
    read_answers,
)
from supervision_kit.generate.render import template_names
from supervision_kit.record import fill, finalize

TEMPLATES = template_names()


def sample(item, n=0):
    """A valid, distinctive value for any prompt or column."""
    kind = item["kind"]
    if kind in ("long_text", "short_text"):
        return f"Fictional answer to {item['id']} — line {n}\nwith <tags> & *markdown*"
    if kind == "scale":
        return item["max"] - n % (item["max"] - item["min"] + 1)
    if kind == "choice":
        return item["options"][-1]
    if kind == "multi":
        return item["options"][:2]
    if kind == "date":
        return "2026-12-01"
    if kind == "number":
        return 42
    if kind == "table":
        return [{c["id"]: sample(c, r) for c in item["columns"]} for r in range(3)]
    raise AssertionError(kind)


def test_all_five_templates_are_packaged():
    assert set(TEMPLATES) >= {"session", "process_recording", "ethics", "progress", "workshop"}


@pytest.mark.parametrize("name", TEMPLATES)
def test_prompt_ids_are_unique_and_kinds_covered(name):
    ps = load_prompt_set(name)
    ids = [p["id"] for p in ps.prompts()]
    assert len(ids) == len(set(ids))


def test_session_covers_every_prompt_kind():
    kinds = {p["kind"] for p in load_prompt_set("session").prompts()}
    assert kinds >= {"long_text", "short_text", "scale", "choice", "multi", "date", "number",
                     "table"}


@pytest.mark.parametrize("name", TEMPLATES)
def test_fill_responses_finalize_round_trip(make_workbook, name):
    path = make_workbook(template=name)
    prompts = prompt_index(load_notebook(path))
    answers = {pid: sample(p) for pid, p in prompts.items()}
    fill(path, answers)
    got = read_answers(path)["answers"]
    assert got == answers
    finalize(path)
    journal_path(path).unlink()
    assert read_answers(path)["answers"] == answers
    nb = json.loads(path.read_text())
    mirrored = {o["data"][ANSWER_MIME]["id"] for c in nb["cells"] for o in c.get("outputs", [])
                if c["cell_type"] == "code" and ANSWER_MIME in o.get("data", {})}
    assert mirrored == set(answers)


def test_process_recording_table_renders_rows_in_the_finalized_notebook(make_workbook):
    path = make_workbook(template="process_recording")
    rows = [{"speaker": "Worker", "dialogue": "How has your week been?", "feelings": "calm"},
            {"speaker": "Client", "dialogue": "Long. | Tiring.", "analysis": "fatigue"}]
    fill(path, {"pr_exchanges": rows})
    finalize(path)
    nb = json.loads(path.read_text())
    md = next(o["data"]["text/markdown"] for c in nb["cells"] for o in c.get("outputs", [])
              if o.get("data", {}).get(ANSWER_MIME, {}).get("id") == "pr_exchanges")
    md = "".join(md) if isinstance(md, list) else md  # nbformat may store lines as a list
    lines = md.splitlines()
    assert lines[2].startswith("| Speaker") or any(ln.startswith("| Speaker") for ln in lines)
    assert "| Client | Long\\. \\| Tiring\\. |" in md
    assert read_answers(path)["answers"]["pr_exchanges"][1]["analysis"] == "fatigue"


@pytest.mark.timeout(240)
@pytest.mark.parametrize("name", ["session", "process_recording", "ethics"])
def test_template_executes_and_renders_a_widget_for_every_prompt(make_workbook, name):
    path = make_workbook(template=name, focus="ethics")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors[:1]
    for cell in nb.cells:
        pid = cell.metadata.get(META, {}).get("prompt")
        if pid:
            data = [o.get("data", {}) for o in cell.outputs]
            assert "application/vnd.jupyter.widget-view+json" in data[0], pid
            assert data[1][ANSWER_MIME]["id"] == pid


def test_driscoll_parameter_swaps_the_reflective_cycle(make_workbook):
    gibbs = prompt_index(load_notebook(make_workbook(date="2026-01-01")))
    driscoll = prompt_index(load_notebook(make_workbook(
        date="2026-01-02", params={"reflective_model": "driscoll"})))
    assert "refl_description" in gibbs and "refl_what" not in gibbs
    assert "refl_what" in driscoll and "refl_description" not in driscoll


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_ships_the_current_stylesheet_as_its_first_output(name):
    """The parameters cell's output is the workbook's look (scripts/make_templates.py)."""
    from supervision_kit.core.prompts import templates_dir
    from supervision_kit.kernel.look import script_output, stylesheet_output

    nb = json.loads((templates_dir() / f"{name}.ipynb").read_text(encoding="utf-8"))
    first = next(c for c in nb["cells"] if c.get("outputs"))
    assert "parameters" in first["metadata"]["tags"]
    html = first["outputs"][0]["data"]["text/html"]
    assert "".join(html) == stylesheet_output()["data"]["text/html"], \
        "run scripts/make_templates.py"
    js = first["outputs"][1]["data"]["application/javascript"]
    assert "".join(js) == script_output()["data"]["application/javascript"]
    assert "show_stylesheet()" in "".join(first["source"])
