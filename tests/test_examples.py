"""workbooks/examples/: a finalized worked example of every template, readable with plain json,
complete by the completeness rule, and (where signed) verifiable from the file alone."""

import json

import pytest

from supervision_kit.core.workbook import ANSWER_MIME, META, open_record
from supervision_kit.generate.render import template_names
from supervision_kit.signoff import missing_required, verify
from tests.helpers import ROOT

EXAMPLES = ROOT / "workbooks" / "examples"


@pytest.mark.parametrize("name", template_names())
def test_every_template_has_a_finalized_example(name):
    nb = json.loads((EXAMPLES / f"{name}.ipynb").read_text(encoding="utf-8"))
    assert nb["metadata"][META]["workbook"]["template"] == name
    assert "finalized" in nb["metadata"][META]
    answered = [o["data"][ANSWER_MIME] for c in nb["cells"] for o in c.get("outputs", [])
                if o.get("data", {}).get(ANSWER_MIME, {}).get("value") is not None]
    assert len(answered) >= 3
    assert "fictional" in json.dumps(nb).lower()


@pytest.mark.parametrize("name", template_names())
def test_every_example_is_complete_and_verifies_if_signed(name):
    path = EXAMPLES / f"{name}.ipynb"
    rec = open_record(path)
    assert missing_required(rec) == []
    if rec.state.signed:
        assert verify(path).ok


@pytest.mark.parametrize("name", ["session", "agreement", "process_recording", "ethics",
                                  "critical_incident"])
def test_records_that_need_both_signatures_are_locked(name):
    rec = open_record(EXAMPLES / f"{name}.ipynb")
    assert rec.locked and set(rec.state.signed) == {"worker", "supervisor"}


def test_the_session_example_is_about_several_cases_with_feedback_written():
    rec = open_record(EXAMPLES / "session.ipynb")
    assert len(rec.info["cases"]) >= 2
    assert {p.get("case") for p in rec.prompts.values()} >= set(rec.info["cases"])
    supervisor = [pid for pid, p in rec.prompts.items() if p.get("role") == "supervisor"
                  and p.get("case") is None and p["kind"] == "long_text"]
    assert supervisor and all(rec.answers.get(pid) for pid in supervisor)
    ratings = [pid for pid, p in rec.prompts.items() if p.get("rates")
               and rec.answers.get(pid) is not None]
    assert len(ratings) >= 10 and all(rec.answers.get(rec.prompts[pid]["evidence"])
                                      for pid in ratings)


def test_examples_hold_no_machine_paths():
    for path in EXAMPLES.glob("*.ipynb"):
        text = path.read_text(encoding="utf-8")
        assert "/tmp/" not in text and "/home/" not in text and "/root/" not in text, path
        assert "/work/" not in text, path


def test_signed_session_example_verifies_from_the_file_alone():
    assert verify(EXAMPLES / "session.ipynb").ok
