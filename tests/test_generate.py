import json

import nbformat
import pytest
from nbformat.sign import NotebookNotary

from supervision_kit.core.errors import ConflictError, InputError
from supervision_kit.core.workbook import META, load_notebook, prompt_index
from supervision_kit.generate.render import new_workbook
from tests.helpers import FIXTURE_TEMPLATES, cell_prompts, source


def test_parameters_land_and_layout(make_workbook, store):
    path = make_workbook(case="demo-01", date="2026-02-03", focus="ethics")
    assert path == store / "sessions" / "2026-02-03-session-demo-01.ipynb"
    nb = load_notebook(path)
    info = nb["metadata"][META]["workbook"]
    assert info["case_id"] == "demo-01" and info["session_date"] == "2026-02-03"
    assert info["worker"] == "W. Test" and info["supervisor"] == "S. Test"
    assert info["template"] == "session" and info["template_version"]
    header = source(nb["cells"][0])
    assert "demo\\-01" in header and "W\\. Test" in header and "Run All Cells" in header


def test_injected_parameters_are_scrubbed_of_names(make_workbook):
    nb = load_notebook(make_workbook())
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1
    src = source(injected[0])
    assert "W. Test" not in src and "S. Test" not in src
    assert 'workbook_file = "2026-03-02-session-case-01.ipynb"' in src
    assert nb["metadata"]["papermill"]["parameters"] == {"see": f"metadata.{META}.workbook"}


def test_code_is_hidden_and_notebook_trusted(make_workbook):
    path = make_workbook()
    nb = load_notebook(path)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["metadata"]["jupyter"]["source_hidden"] for c in code)
    assert NotebookNotary().check_signature(nbformat.read(path, as_version=4))


def test_one_cell_per_section_showing_its_questions(kinds_workbook):
    """Each section's prompts share one hidden code cell (Run All's time grows with the
    number of cells), which shows every question before it runs."""
    nb = load_notebook(kinds_workbook)
    asks = [c for c in nb["cells"] if cell_prompts(c)]
    sections = nb["metadata"][META]["prompt_set"]["sections"]
    assert [cell_prompts(c) for c in asks] == [
        [p["id"] for p in s["prompts"]] for s in sections if s["prompts"]]
    assert [source(c) for c in asks] == [
        "wb.ask(" + ", ".join(f'"{pid}"' for pid in cell_prompts(c)) + ")" for c in asks]
    assert [pid for c in asks for pid in cell_prompts(c)] == list(prompt_index(nb))
    assert all(c["metadata"][META]["question"] for c in asks)
    assert nb["metadata"][META]["format"] == 3
    # no markdown cell per prompt: only section headings (and the closing notes) are markdown
    md = [source(c) for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert not any(m.startswith("**") for m in md)
    # before it runs, each cell shows its questions (escaped, in order), not code
    for c in asks:
        assert [o["metadata"][META]["question"] for o in c["outputs"]] == cell_prompts(c)
    first = asks[0]["outputs"][0]
    assert first["metadata"][META]["question"] == "story"
    assert "Describe what happened" in "".join(first["data"]["text/markdown"])
    assert "only_b" not in prompt_index(nb)  # section excluded by its `when`


def test_long_workbooks_start_with_section_links(make_workbook):
    nb = load_notebook(make_workbook())
    links = next(source(c) for c in nb["cells"] if source(c).startswith("**Sections:**"))
    assert '<a href="#Check-in-and-agenda">Check-in and agenda</a>' in links
    headings = [source(c).split("\n")[0] for c in nb["cells"] if source(c).startswith("## ")]
    assert "## Check-in and agenda" in headings


def test_template_parameter_selects_sections(store):
    path = new_workbook(case_id="c", worker="w", supervisor="s", store=store,
                        template="kinds", templates=str(FIXTURE_TEMPLATES),
                        params={"variant": "b"})
    ids = prompt_index(load_notebook(path))
    assert "only_b" in ids and "rows" not in ids


def test_unknown_template_parameter(store):
    with pytest.raises(InputError, match="unknown parameter 'colour'"):
        new_workbook(case_id="c", worker="w", supervisor="s", store=store,
                     template="kinds", templates=str(FIXTURE_TEMPLATES), params={"colour": "x"})


def test_focus_puts_section_first_and_marks_header(store):
    path = new_workbook(case_id="c", worker="w", supervisor="s", store=store,
                        template="kinds", templates=str(FIXTURE_TEMPLATES), focus="grid")
    nb = load_notebook(path)
    sections = nb["metadata"][META]["prompt_set"]["sections"]
    assert [s["id"] for s in sections] == ["grid", "basics"]
    assert "Today's focus" in source(nb["cells"][0])
    titles = [source(c) for c in nb["cells"] if source(c).startswith("## ")]
    assert "today's focus" in titles[0]


def test_refuses_to_overwrite(make_workbook):
    path = make_workbook()
    before = path.read_bytes()
    with pytest.raises(ConflictError, match="already exists"):
        make_workbook()
    assert path.read_bytes() == before


@pytest.mark.parametrize("case", ["../x", "/abs", "", "x" * 65, "a b"])
def test_bad_case_id_writes_nothing(store, case):
    with pytest.raises(InputError):
        new_workbook(case_id=case, worker="w", supervisor="s", store=store)
    assert not store.exists()


def test_workbook_is_plain_json_with_prompt_set(make_workbook):
    nb = json.loads(make_workbook().read_text())
    assert nb["nbformat"] == 4
    assert nb["metadata"][META]["prompt_set"]["name"] == "session"
