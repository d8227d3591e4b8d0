import pytest
import yaml

from supervision_kit.core.errors import InputError, PromptSetError
from supervision_kit.core.prompts import check_value, load_prompt_set, validate_prompt_set
from tests.helpers import FIXTURE_TEMPLATES


def base():
    return yaml.safe_load((FIXTURE_TEMPLATES / "prompts" / "kinds.yaml").read_text())


def write(tmp_path, data):
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_fixture_set_is_valid():
    ps = load_prompt_set(FIXTURE_TEMPLATES / "prompts" / "kinds.yaml")
    assert ps.name == "kinds"
    assert {p["kind"] for p in ps.prompts()} >= {
        "long_text", "short_text", "scale", "choice", "multi", "date", "number", "table"}
    assert ps.prompts()[0]["section"] == "basics"


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["sections"][0]["prompts"][1].update(kind="essay"), "prompt 'headline'"),
        (lambda d: d["sections"][0]["prompts"][2].pop("anchors"), "prompt 'mood'"),
        (lambda d: d["sections"][0]["prompts"][2]["anchors"].pop("5"), "anchors must include"),
        (lambda d: d["sections"][0]["prompts"][3].pop("options"), "prompt 'pick'"),
        (lambda d: d["sections"][0]["prompts"][1].update(id="story"), "duplicate id"),
        (lambda d: d["sections"][0]["prompts"][1].update(id="Bad Id"), "Bad Id"),
        (lambda d: d["sections"][0]["prompts"][7]["show_if"].update(prompt="nope"), "unknown"),
        (lambda d: d.pop("version"), "version"),
    ],
)
def test_bad_prompt_sets_name_file_and_prompt(tmp_path, mutate, message):
    data = base()
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(PromptSetError) as err:
        load_prompt_set(path)
    text = str(err.value)
    assert str(path) in text and message in text
    assert "\n" not in text


def test_invalid_yaml_is_one_line(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("name: [unclosed\n")
    with pytest.raises(PromptSetError, match="not valid YAML"):
        load_prompt_set(p)


def test_missing_set():
    with pytest.raises(InputError, match="not found"):
        load_prompt_set("no_such_template")


PROMPTS = {p["id"]: p for p in validate_prompt_set(base()).prompts()}


@pytest.mark.parametrize(
    "pid, value, expected",
    [
        ("story", "a\r\nb", "a\nb"),
        ("mood", 3, 3),
        ("pick", "No", "No"),
        ("many", ["Blue", "Red"], ["Red", "Blue"]),
        ("when", "2026-04-01", "2026-04-01"),
        ("score", 12.5, 12.5),
        ("rows", [{"who": "Client", "said": "hi"}],
         [{"who": "Client", "said": "hi", "level": None, "due": None}]),
        ("story", None, None),
    ],
)
def test_check_value_normalises(pid, value, expected):
    assert check_value(PROMPTS[pid], value) == expected


@pytest.mark.parametrize(
    "pid, value, message",
    [
        ("story", 5, "expected text"),
        ("story", "a\x00b", "NUL"),
        ("story", "x" * 100_001, "limit"),
        ("mood", 6, "outside"),
        ("mood", True, "whole number"),
        ("mood", "3", "whole number"),
        ("pick", "Maybe", "not one of"),
        ("many", ["Red", "Red"], "distinct"),
        ("many", "Red", "list"),
        ("when", "01/02/2026", "not a date"),
        ("score", float("nan"), "number"),
        ("rows", [{"who": "Dog"}], "row 1: column 'who'"),
        ("rows", [{"nope": 1}], "unknown column"),
        ("rows", {"who": "Client"}, "list of rows"),
    ],
)
def test_check_value_rejects(pid, value, message):
    with pytest.raises(InputError, match=message) as err:
        check_value(PROMPTS[pid], value)
    assert pid in str(err.value)
