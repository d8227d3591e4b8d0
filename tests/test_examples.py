"""workbooks/examples/: a finalized worked example of every template, readable with plain json."""

import json

import pytest

from supervision_kit.core.workbook import ANSWER_MIME, META
from supervision_kit.generate.render import template_names
from supervision_kit.signoff import verify
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


def test_examples_hold_no_machine_paths():
    for path in EXAMPLES.glob("*.ipynb"):
        text = path.read_text(encoding="utf-8")
        assert "/tmp/" not in text and "/home/" not in text and "/root/" not in text, path


def test_signed_session_example_verifies_from_the_file_alone():
    assert verify(EXAMPLES / "session.ipynb").ok
