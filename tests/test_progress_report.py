"""The progress workbook is generated and executed end-to-end by a real kernel (papermill)."""

import json
import stat

import pytest

from supervision_kit.core.errors import InputError
from supervision_kit.core.markers import kernel_marker
from supervision_kit.core.workbook import ANSWER_MIME, read_answers
from supervision_kit.progress.report import make_progress, summary
from supervision_kit.record import fill
from tests.helpers import external_refs, run_cli
from tests.test_progress import build_case

pytestmark = pytest.mark.timeout(240)


def _outputs(path):
    nb = json.loads(path.read_text())
    return [o for c in nb["cells"] for o in c.get("outputs", [])]


def test_progress_workbook_executes_with_all_charts(make_workbook, store):
    build_case(make_workbook)
    res = make_progress("demo-01", store=store, html=True, date="2026-03-20")
    path = res["notebook"]
    assert path == store / "demo-01" / "2026-03-20-progress.ipynb"
    got = summary(path)
    # GAS, goals, 2 rating panels, 2 outcome trends, supervision frequency
    assert got == {"images": 7, "errors": 0}
    html_text = " ".join(
        "".join(o["data"].get("text/html", "")) for o in _outputs(path) if "data" in o)
    assert "Opens post with a support worker every Friday" in html_text
    assert not kernel_marker(path).exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # the review prompts are captured like any workbook's
    mirrors = [o["data"][ANSWER_MIME]["id"] for o in _outputs(path) if ANSWER_MIME in o.get(
        "data", {})]
    assert "prog_changed" in mirrors and "review_direction" in mirrors
    report = res["html"]
    assert report == path.with_suffix(".html")
    text = report.read_text()
    assert text.count("data:image/png;base64") >= 7
    assert "wb.progress_review()" not in text  # inputs are left out
    assert external_refs(text) == [] and "<script src" not in text  # opens offline
    assert stat.S_IMODE(report.stat().st_mode) == 0o600

    # re-running the same day refreshes the charts and keeps the review's answers
    fill(path, {"prog_changed": "Mornings are calmer"})
    make_progress("demo-01", store=store, date="2026-03-20")
    assert read_answers(path)["answers"]["prog_changed"] == "Mornings are calmer"
    assert summary(path)["images"] == 7


def test_progress_cli_with_out_path_and_errors(make_workbook, store, tmp_path):
    build_case(make_workbook, sessions=[("2026-01-12", {"session_rating": 6})])
    out = tmp_path / "reports" / "review.ipynb"
    out.parent.mkdir()
    code, stdout, err = run_cli("progress", "--case", "demo-01", "--store", store, "--out", out)
    assert code == 0, err
    assert stdout.strip() == str(out)
    assert summary(out)["errors"] == 0 and summary(out)["images"] >= 5
    code, _, err = run_cli("progress", "--case", "demo-09", "--store", store)
    assert code == 2 and "no readable workbooks for case 'demo-09'" in err
    with pytest.raises(InputError, match="must end in .ipynb"):
        make_progress("demo-01", store=store, out=tmp_path / "x.html")
