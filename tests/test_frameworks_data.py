"""Competency frameworks and supervision requirements are data: every YAML file in
templates/frameworks and templates/requirements validates against its JSON Schema and passes
the checks a schema cannot express (unique ids, phases and reviews in order, caps that fit)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from supervision_kit.placements.frameworks import framework_problems, requirement_problems
from tests.helpers import ROOT

FRAMEWORKS = ROOT / "templates" / "frameworks"
REQUIREMENTS = ROOT / "templates" / "requirements"
FRAMEWORK_FILES = sorted(FRAMEWORKS.glob("*.yaml"))
REQUIREMENT_FILES = sorted(REQUIREMENTS.glob("*.yaml"))


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_the_schemas_are_valid_json_schema():
    for folder, name in ((FRAMEWORKS, "framework.schema.json"),
                         (REQUIREMENTS, "requirement.schema.json")):
        Draft202012Validator.check_schema(json.loads((folder / name).read_text("utf-8")))


def sentences(text: str) -> int:
    return len([s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s])


def by_name(name: str) -> dict:
    return load(FRAMEWORKS / f"{name}.yaml")


# ------------------------------------------------------------------ every file


def test_the_data_folders_are_not_empty():
    assert len(FRAMEWORK_FILES) >= 5, FRAMEWORK_FILES
    assert len(REQUIREMENT_FILES) >= 2, REQUIREMENT_FILES


@pytest.mark.parametrize("path", FRAMEWORK_FILES, ids=lambda p: p.stem)
def test_framework_file_is_valid(path):
    data = load(path)
    assert framework_problems(data) == []
    assert data["name"] == path.stem, "the file name and `name` must match"


@pytest.mark.parametrize("path", REQUIREMENT_FILES, ids=lambda p: p.stem)
def test_requirement_file_is_valid(path):
    data = load(path)
    assert requirement_problems(data) == []
    assert data["name"] == path.stem, "the file name and `name` must match"


@pytest.mark.parametrize("path", FRAMEWORK_FILES + REQUIREMENT_FILES, ids=lambda p: p.stem)
def test_header_comment_says_how_to_fork_and_has_no_urls(path):
    text = path.read_text(encoding="utf-8")
    header = "\n".join(line for line in text.splitlines() if line.startswith("#")).lower()
    assert text.startswith("# ")
    for word in ("stable", "fork", "`name`", "`version`"):
        assert word in header, f"{path.name}: header comment should mention {word}"
    if path.parent == FRAMEWORKS:
        assert "paraphrase" in header
    assert not re.search(r"https?://|www\.", text), f"{path.name}: no URLs in the data"
    assert max(len(line) for line in text.splitlines()) <= 100


@pytest.mark.parametrize("path", FRAMEWORK_FILES, ids=lambda p: p.stem)
def test_wording_is_short_and_practitioner_facing(path):
    data = load(path)
    assert 1 <= sentences(data["description"]) <= 3
    for c in data["competencies"]:
        assert 1 <= sentences(c["description"]) <= 3, (c["id"], c["description"])
        for ind in c.get("indicators", []):
            assert sentences(ind) == 1 and not ind.endswith("."), (c["id"], ind)
    for level in data["levels"]:
        assert 1 <= sentences(level["description"]) <= 3, level["id"]


@pytest.mark.parametrize("path", FRAMEWORK_FILES, ids=lambda p: p.stem)
def test_kit_levels_are_labelled_as_the_kits_own(path):
    data = load(path)
    if data["levels_origin"] == "kit":
        assert "kit" in data["levels_note"].lower()
        assert [lv["id"] for lv in data["levels"]] == [
            "not_yet", "emerging", "competent", "exceeds"]


# ------------------------------------------------------------------ structure facts


def test_cswe_has_the_nine_competencies():
    data = by_name("cswe-epas-2022")
    assert [c["id"] for c in data["competencies"]] == [f"c{i}" for i in range(1, 10)]
    assert [c["ref"] for c in data["competencies"]] == [str(i) for i in range(1, 10)]
    assert data["source"]["year"] == 2022 and data["country"] == "US"
    for c in data["competencies"][5:]:
        assert c["title"].endswith("Organizations, and Communities"), c["title"]


def test_pcf_has_nine_domains_and_its_career_levels_in_order():
    data = by_name("basw-pcf")
    assert [c["id"] for c in data["competencies"]] == [f"pcf{i}" for i in range(1, 10)]
    assert [c["title"] for c in data["competencies"]] == [
        "Professionalism", "Values and Ethics", "Diversity and Equality",
        "Rights, Justice and Economic Wellbeing", "Knowledge",
        "Critical Reflection and Analysis", "Skills and Interventions",
        "Contexts and Organisations", "Professional Leadership"]
    levels = [lv["id"] for lv in data["levels"]]
    assert data["levels_origin"] == "published"
    assert levels == ["entry", "readiness", "end_first_placement", "end_last_placement",
                      "asye", "social_worker", "experienced", "advanced", "strategic"]
    # the seven stages named in the brief appear, in this order, among the nine
    brief = ["entry", "end_first_placement", "end_last_placement", "asye",
             "social_worker", "experienced", "advanced"]
    assert [lv for lv in levels if lv in brief] == brief


def test_swe_has_six_standards():
    data = by_name("swe-standards")
    assert [c["id"] for c in data["competencies"]] == [f"swe{i}" for i in range(1, 7)]


@pytest.mark.parametrize("name, at_least", [("kss-adults", 8), ("kss-children", 10)])
def test_kss_files_cover_their_areas(name, at_least):
    data = by_name(name)
    assert len(data["competencies"]) >= at_least
    titles = " ".join(c["title"].lower() for c in data["competencies"])
    assert "supervision" in titles and "organisational context" in titles
    assert "3, 6 and 12 months" in data["description"]


def test_kss_children_refs_run_one_to_ten():
    refs = [c["ref"] for c in by_name("kss-children")["competencies"]]
    assert refs == [str(i) for i in range(1, 11)]


def test_us_example_is_labelled_and_has_the_expected_shape():
    data = load(REQUIREMENTS / "us-example-state-lcsw.yaml")
    assert data["illustrative"] is True and "example" in data["title"].lower()
    assert (data["kind"], data["total_practice_hours"], data["min_months"],
            data["supervision_hours"]) == ("hours", 3000, 24, 100)
    assert set(data["kinds_counted"]) == {"individual", "group", "live", "remote"}
    caps = {c["kind"]: c for c in data["caps"]}
    assert caps["group"]["cap_hours"] == 50 and caps["remote"]["cap_fraction"] == 0.5
    assert "LCSW" in data["supervisor_credential"] and data["supervisor_min_years"] == 2


def test_asye_frequency_steps_down_and_reviews_at_3_6_12():
    data = load(REQUIREMENTS / "uk-asye.yaml")
    assert data["illustrative"] is False and data["programme_months"] == 12
    phases = data["frequency"]
    assert phases[0] == {"until_week": 6, "every_days": 7, "min_minutes": 90}
    assert phases[1] == {"until_month": 6, "every_days": 14, "min_minutes": 90}
    assert phases[2] == {"until_month": 12, "every_months": 1, "min_minutes": 90}
    assert [r["at_month"] for r in data["reviews"]] == [3, 6, 12]


def test_placement_example_is_labelled():
    data = load(REQUIREMENTS / "uk-placement-example.yaml")
    assert data["illustrative"] is True and "example" in data["title"].lower()
    assert data["kind"] == "placement" and data["observations"] == 3
    assert data["frequency"] == [{"every_days": 7, "min_minutes": 90}]


# ------------------------------------------------------------------ broken copies


def _dup_competency(d):
    d["competencies"][1]["id"] = d["competencies"][0]["id"]


def _dup_level(d):
    d["levels"][2]["id"] = d["levels"][0]["id"]


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.pop("competencies"), "'competencies' is a required property"),
        (lambda d: d.update(competencies=[]), "competencies"),
        (_dup_competency, "duplicate competency id 'c1'"),
        (_dup_level, "duplicate level id 'not_yet'"),
        (lambda d: d["competencies"][2].update(ref="1"), "duplicate competency ref '1'"),
        (lambda d: d["competencies"][0].update(id="C 1"), "does not match"),
        (lambda d: d.update(name="CSWE EPAS"), "does not match"),
        (lambda d: d.pop("levels_note"), "'levels_note' is a required property"),
        (lambda d: d["competencies"][0].update(description=""), "competency 'c1', description"),
        (lambda d: d["competencies"][0].update(indicators=["a", "a"]), "non-unique"),
        (lambda d: d["source"].update(url="x"), "Additional properties"),
        (lambda d: d.update(version="one"), "version"),
        (lambda d: d.update(levels=d["levels"][:1]), "levels"),
    ],
)
def test_broken_framework_is_rejected(mutate, message):
    data = copy.deepcopy(by_name("cswe-epas-2022"))
    assert framework_problems(data) == []
    mutate(data)
    problems = framework_problems(data)
    assert problems, "the broken copy was accepted"
    assert any(message in p for p in problems), problems


def _cap_both(d):
    d["caps"][0]["cap_fraction"] = 0.2


def _cap_not_counted(d):
    d["kinds_counted"].remove("remote")


def _phase_open_first(d):
    d["frequency"][0].pop("until_week")


def _phases_swapped(d):
    d["frequency"][0], d["frequency"][1] = d["frequency"][1], d["frequency"][0]


def _reviews_swapped(d):
    d["reviews"].reverse()


@pytest.mark.parametrize(
    "name, mutate, message",
    [
        ("us-example-state-lcsw", lambda d: d.pop("total_practice_hours"),
         "'total_practice_hours' is a required property"),
        ("us-example-state-lcsw", _cap_both, "cap 'group'"),
        ("us-example-state-lcsw", lambda d: d["caps"][0].pop("cap_hours"), "cap 'group'"),
        ("us-example-state-lcsw", lambda d: d["caps"][1].update(cap_fraction=1.5),
         "cap 'remote'"),
        ("us-example-state-lcsw", _cap_not_counted, "not in kinds_counted"),
        ("us-example-state-lcsw", lambda d: d["caps"][0].update(cap_hours=500),
         "exceeds supervision_hours"),
        ("us-example-state-lcsw", lambda d: d.update(supervision_hours=5000),
         "exceeds total_practice_hours"),
        ("us-example-state-lcsw", lambda d: d["kinds_counted"].append("phone"), "phone"),
        ("us-example-state-lcsw", lambda d: d.pop("illustrative"), "illustrative"),
        ("uk-asye", lambda d: d.pop("frequency"), "'frequency' is a required property"),
        ("uk-asye", _phase_open_first, "only the last frequency phase"),
        ("uk-asye", _phases_swapped, "not in increasing order"),
        ("uk-asye", lambda d: d["frequency"][0].update(until_month=1), "frequency phase 1"),
        ("uk-asye", lambda d: d["frequency"][0].update(every_months=1), "frequency phase 1"),
        ("uk-asye", _reviews_swapped, "reviews are not in increasing order"),
        ("uk-asye", lambda d: d["reviews"].append({"at_month": 18, "label": "late"}),
         "after the programme"),
        ("uk-asye", lambda d: d["reviews"][0].update(at_week=2), "review 1"),
        ("uk-asye", lambda d: d.update(kind="weekly"), "kind"),
        ("uk-placement-example", lambda d: d.pop("placement_days"), "placement_days"),
    ],
)
def test_broken_requirement_is_rejected(name, mutate, message):
    data = copy.deepcopy(load(REQUIREMENTS / f"{name}.yaml"))
    assert requirement_problems(data) == []
    mutate(data)
    problems = requirement_problems(data)
    assert problems, "the broken copy was accepted"
    assert any(message in p for p in problems), problems


def test_a_fork_may_not_name_itself_as_its_origin():
    data = copy.deepcopy(by_name("cswe-epas-2022"))
    data["forked_from"] = data["name"]
    assert any("forked_from" in p for p in framework_problems(data))
    data["forked_from"] = "some-other"
    assert framework_problems(data) == []
