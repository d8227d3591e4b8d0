"""Placements (issue 15): a fictional student's placement from learning agreement to final
evaluation. Frameworks and requirements as data, evidence tagged in templates and by hand,
the supervised-hours log against a requirement with a group-hours cap, the evidence map, the
review workflow and the tutor's countersignature, and a renamed fork of a framework.

Everything is fictional. The sessions are made with the kit's own templates; prompts of
templates owned elsewhere (the full session, the process recording) are found by their
annotations or kinds, never by id.
"""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from supervision_kit.core.errors import (
    ConflictError,
    IdentityError,
    InputError,
    LockedError,
    PromptSetError,
)
from supervision_kit.core.prompts import is_answered
from supervision_kit.core.workbook import META, load_notebook, open_record, prompt_index
from supervision_kit.generate.render import new_workbook
from supervision_kit.placements import review as R
from supervision_kit.placements.agreements import worker_framework
from supervision_kit.placements.evidence import collect, evidence_map, gaps
from supervision_kit.placements.frameworks import (
    check_folder,
    load_framework,
    load_requirement,
)
from supervision_kit.placements.hours import hours_log
from supervision_kit.record import fill
from supervision_kit.signoff import history, sign, verify
from supervision_kit.table.index import load_store
from tests.helpers import ROOT, run_cli

STUDENT = "Lena Hart (fictional)"
EDUCATOR = "Owen Marsh (fictional)"
TUTOR = "Ruth Akande (fictional)"
CREDENTIAL = "LCSW, Example State licence 0000 (fictional)"
HOSTILE = "She said <script>alert(1)</script> and *laughed* | then left"

# The eight supervision sessions: (date, template, kind chosen, minutes, cases).
# "session" is the kit's full session template, which has no supervision-mode prompt: it counts
# as individual supervision.
SESSIONS = [
    ("2026-01-19", "placement_supervision", "One to one with the practice educator", 90,
     ["P-01"]),
    ("2026-01-26", "placement_supervision", "Group supervision", 120, ["P-01", "P-02"]),
    ("2026-02-02", "session", None, 60, ["P-02"]),
    ("2026-02-09", "placement_supervision", "Group supervision", 120, []),
    ("2026-02-16", "placement_supervision",
     "Live supervision (the educator was there while you practised)", 45, ["P-01"]),
    ("2026-02-23", "placement_supervision", "Remote (video or phone)", 60, []),
    ("2026-03-09", "session", None, 90, ["P-01"]),
    ("2026-03-16", "placement_supervision", "Group supervision", 90, ["P-02"]),
]
# by hand: individual 90 + 60 + 90 = 240 min = 4.0 h; group 120 + 120 + 90 = 330 min = 5.5 h;
# live 45 min = 0.75 h; remote 60 min = 1.0 h; total 11.25 h in 8 sessions.
HAND = {"individual": 4.0, "group": 5.5, "live": 0.75, "remote": 1.0}
# A programme's own rule (a fork of the requirements): 12 h of supervision, group supervision
# counts up to 3 h, remote up to a quarter of the 12 h; weekly for at least 60 minutes.
TEST_REQUIREMENT = {
    "name": "test-placement-hours", "title": "Test placement supervision (fictional)",
    "version": "1.0", "jurisdiction": "Nowhere (test)", "kind": "hours", "illustrative": True,
    "note": "A rule invented for the tests.", "total_practice_hours": 400,
    "supervision_hours": 12, "kinds_counted": ["individual", "group", "live", "remote"],
    "caps": [{"kind": "group", "cap_hours": 3}, {"kind": "remote", "cap_fraction": 0.25}],
    "frequency": [{"every_days": 7, "min_minutes": 60}], "observations": 2,
    "supervisor_credential": "A licensed clinical social worker", "supervisor_min_years": 2,
}


def value_for(p: dict, text: str):
    """A valid answer of the prompt's kind (text answers get ``text``)."""
    kind = p["kind"]
    if kind in ("long_text", "short_text"):
        return text
    if kind == "scale":
        return p["min"] + (p["max"] - p["min"]) // 2
    if kind == "choice":
        return p["options"][0]
    if kind == "multi":
        return p["options"][:1]
    if kind == "date":
        return "2026-01-12"
    if kind == "number":
        return 1
    return [{c["id"]: value_for(c, text) for c in p["columns"]}]


def complete(path, answers: dict, text: str = "Fictional answer.") -> dict:
    """Fill ``answers`` plus every required prompt and every evidence note still missing."""
    prompts = prompt_index(load_notebook(path))
    have = dict(answers)
    for pid, p in prompts.items():
        if p.get("required") and pid not in have:
            have[pid] = value_for(p, text)
    for pid, p in prompts.items():
        if p.get("evidence") and pid in have and p["evidence"] not in have:
            have[p["evidence"]] = f"{text} (evidence for {pid})"
    fill(path, have)
    return prompts


def first_text_prompt(prompts: dict, *, private: bool = False) -> str:
    return next(pid for pid, p in prompts.items()
                if p["kind"] == "long_text" and bool(p.get("private")) == private
                and not p.get("show_if"))


def by_annotation(prompts: dict, key: str) -> str:
    return next(pid for pid, p in prompts.items() if p.get(key))


@pytest.fixture(scope="module")
def placement(tmp_path_factory):
    """The student's store: learning agreement, eight sessions, a process recording, two
    observations (the first reviewed), mid-point and final evaluations."""
    store = tmp_path_factory.mktemp("placement") / "store"
    made: dict = {"store": store, "sessions": []}

    def new(template, date, cases=(), **kw):
        return new_workbook(worker=STUDENT, supervisor=EDUCATOR, date=date, template=template,
                            store=store, cases=list(cases), **kw)

    la = new("learning_agreement", "2026-01-12", params={"framework": "cswe-epas-2022"})
    complete(la, {"la_setting": "School-based family support (fictional)",
                  "la_start": "2026-01-12", "la_end": "2026-05-01",
                  "la_educator_credential": CREDENTIAL, "la_credential_since": "2018-05-01",
                  "la_midpoint_date": "2026-03-02", "la_final_date": "2026-04-27",
                  "la_goal__c7": "Write an assessment that weighs strengths as well as risks."})
    sign(la, "worker", STUDENT)
    sign(la, "supervisor", EDUCATOR)
    made["agreement"] = la

    for n, (date, template, mode, minutes, cases) in enumerate(SESSIONS, 1):
        path = new(template, date, cases)
        prompts = prompt_index(load_notebook(path))
        answers = {by_annotation(prompts, "duration"): minutes}
        if mode:
            answers[by_annotation(prompts, "supervision_mode")] = mode
            c1 = next(pid for pid, p in prompts.items() if p.get("case") == cases[0]
                      and pid.startswith("ps_case_assessment")) if cases else None
            if c1:
                answers[c1] = f"Session {n}: the parent's own plan for mornings is a strength."
            answers["ps_values"] = f"Session {n}: whether to share the school's concern."
        else:
            answers[first_text_prompt(prompts)] = f"Session {n}: {HOSTILE}"
        fill(path, answers)
        made["sessions"].append(path)
    # the student tags an answer of the full session template as evidence for competency 2
    s3 = made["sessions"][2]
    made["tagged_prompt"] = first_text_prompt(prompt_index(load_notebook(s3)))
    R.tag(s3, made["tagged_prompt"], ["2"], text="Raised the family's right to free meals.")

    pr = new("process_recording", "2026-02-12", ["P-01"])
    prompts = prompt_index(load_notebook(pr))
    fill(pr, {pid: f"Process recording: {pid}" for pid, p in prompts.items()
              if p["kind"] == "long_text" and not p.get("show_if")})
    made["process_recording"] = pr
    made["pr_tagged"] = first_text_prompt(prompts)
    R.tag(pr, made["pr_tagged"], ["cswe-epas-2022:c7"], role="supervisor",
          name=EDUCATOR)

    obs = []
    for date, case in (("2026-02-05", "P-01"), ("2026-03-05", "P-02")):
        path = new("observation", date, [case])
        complete(path, {"ob_notes": f"Observed {date}: the student waited after each "
                                    "question and summarised the parent's worries.",
                        "ob_feedback_consent": "Yes",
                        "ob_person_feedback": f"Person's feedback {date}: she listened."})
        obs.append(path)
    made["observations"] = obs
    return made


@pytest.fixture(scope="module")
def evaluated(placement):
    """Mid-point and final evaluations, made after the records above (so they pull them)."""
    def new(template, date):
        return new_workbook(worker=STUDENT, supervisor=EDUCATOR, date=date, template=template,
                            store=placement["store"], params={"tutor": TUTOR})

    placement["midpoint"] = new("midpoint_evaluation", "2026-03-02")
    placement["final"] = new("final_evaluation", "2026-04-27")
    return placement


def intro(path, section_id: str) -> str:
    sections = load_notebook(path)["metadata"][META]["prompt_set"]["sections"]
    return next(s["intro"] for s in sections if s["id"] == section_id)


# ---------------------------------------------------------------- frameworks as data


def test_frameworks_load_and_resolve_ids_refs_and_qualified_names():
    fw = load_framework("cswe-epas-2022")
    assert fw.ids() == [f"c{i}" for i in range(1, 10)] and len(fw.levels) == 4
    assert fw.resolve("4") == fw.resolve("c4") == fw.resolve("cswe-epas-2022:c4") == "c4"
    with pytest.raises(InputError, match="no competency"):
        fw.resolve("c10")
    with pytest.raises(InputError, match="unknown framework 'nope'"):
        load_framework("nope")
    assert load_requirement("us-example-state-lcsw").get("supervision_hours") == 100


def test_a_broken_fork_is_refused_naming_file_and_item(tmp_path):
    fork = tmp_path / "frameworks"
    shutil.copytree(ROOT / "templates" / "frameworks", fork)
    text = (fork / "basw-pcf.yaml").read_text()
    (fork / "basw-pcf.yaml").write_text(text.replace("  - id: pcf4\n", "  - id: pcf3\n", 1))
    with pytest.raises(InputError, match=r"basw-pcf\.yaml: duplicate competency id 'pcf3'"):
        check_folder(fork)
    code, _, err = run_cli("frameworks", "check", fork)
    assert code == 2 and "basw-pcf.yaml" in err and "'pcf3'" in err
    assert len(err.strip().splitlines()) == 1
    data = yaml.safe_load((fork / "swe-standards.yaml").read_text())
    data["competencies"][1].pop("description")
    (fork / "swe-standards.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(PromptSetError, match="competency 'swe2'"):
        load_framework(fork / "swe-standards.yaml")


def test_frameworks_and_requirements_commands_list_the_data():
    code, out, _ = run_cli("frameworks")
    assert code == 0 and "cswe-epas-2022" in out and "9 competencies" in out
    code, out, _ = run_cli("requirements")
    assert code == 0 and "us-example-state-lcsw" in out and "(illustrative)" in out
    code, out, _ = run_cli("requirements", "check", ROOT / "templates")
    assert code == 0 and "ok  uk-asye" in out


def test_templates_check_resolves_competency_annotations(tmp_path):
    fork = tmp_path / "tpl"
    shutil.copytree(ROOT / "templates", fork)
    code, out, err = run_cli("templates", "check", fork)
    assert code == 0, err
    assert "ok  observation" in out and "ok  cswe-epas-2022" in out
    path = fork / "prompts" / "observation.yaml"
    path.write_text(path.read_text().replace("cswe-epas-2022:c6", "cswe-epas-2022:c99", 1))
    code, _, err = run_cli("templates", "check", fork)
    assert code == 2 and "observation.yaml" in err and "'c99'" in err


# ---------------------------------------------------------------- the learning agreement


def test_learning_agreement_has_goals_per_competency_and_keeps_its_framework(placement):
    rec = open_record(placement["agreement"])
    assert rec.template["kind"] == "learning_agreement" and rec.locked
    assert rec.path.parent.name == "learning_agreements"
    goals = [pid for pid in rec.prompts if pid.startswith("la_goal__")]
    assert goals == [f"la_goal__c{i}" for i in range(1, 10)]
    assert rec.prompts["la_goal__c7"]["competency"] == "cswe-epas-2022:c7"
    assert rec.template["framework"]["name"] == "cswe-epas-2022"
    assert worker_framework(placement["store"], STUDENT).name == "cswe-epas-2022"
    assert rec.info["parameters"]["framework"] == "cswe-epas-2022"


# ---------------------------------------------------------------- hours


def test_hours_match_the_hand_count_once_per_session(placement):
    log = hours_log(placement["store"], STUDENT, until="2026-03-22")
    assert len(log.sessions) == 8  # the two-case session counts once
    assert [s.minutes for s in log.sessions] == [m for _d, _t, _k, m, _c in SESSIONS]
    assert {k.kind: k.hours for k in log.kinds} == HAND
    assert log.total_hours == 11.25 == log.counted_hours  # no requirement: nothing capped
    two_cases = log.sessions[1]
    assert two_cases.cases == 2 and two_cases.kind == "group" and len(two_cases.records) == 1
    assert log.sessions[2].kind == "individual"  # the full session: the default kind
    assert {s.credential for s in log.sessions} == {CREDENTIAL}
    assert [s.cumulative_hours for s in log.sessions] == [1.5, 3.5, 4.5, 6.5, 7.25, 8.25,
                                                          9.75, 11.25]


def test_a_group_hours_cap_is_applied(placement, tmp_path):
    fork = tmp_path / "tpl"
    shutil.copytree(ROOT / "templates", fork)
    (fork / "requirements" / "test-placement-hours.yaml").write_text(
        yaml.safe_dump(TEST_REQUIREMENT, sort_keys=False))
    req = load_requirement("test-placement-hours", fork)
    log = hours_log(placement["store"], STUDENT, req, until="2026-03-22")
    kinds = {k.kind: k for k in log.kinds}
    assert (kinds["group"].hours, kinds["group"].cap, kinds["group"].counted) == (5.5, 3, 3)
    assert "capped" in kinds["group"].note
    assert (kinds["remote"].cap, kinds["remote"].counted) == (3.0, 1.0)  # 0.25 x 12 h
    assert log.counted_hours == 8.75  # 4 + 3 + 0.75 + 1
    assert (log.required_hours, log.remaining_hours, log.met) == (12, 3.25, False)
    # the cap starts to bite at the fourth session (the second group session)
    assert [s.cumulative_counted for s in log.sessions] == [1.5, 3.5, 4.5, 5.5, 6.25, 7.25,
                                                            8.75, 8.75]
    freq = next(c for c in log.checks if c.startswith("frequency"))
    assert "in 7 of 10 complete weeks" in freq  # no session 12-18 Jan, 2-8 Mar; 16 Feb short
    assert any("2026-02-16 (45 min)" in p for p in log.problems)
    assert log.observations == {"recorded": 2, "signed": 0, "required": 2}
    code, out, err = run_cli("hours", "--worker", STUDENT, "--store", placement["store"],
                             "--requirement", "test-placement-hours", "--templates", fork,
                             "--until", "2026-03-22", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["counted_hours"] == 8.75 and data["total_hours"] == 11.25
    code, out, _ = run_cli("hours", "--worker", STUDENT, "--store", placement["store"],
                           "--requirement", "test-placement-hours", "--templates", fork,
                           "--until", "2026-03-22")
    assert code == 0 and "required: 12 h; counted 8.75 h; remaining 3.25 h" in out
    assert "group" in out and "capped: 2.5 h over the 3 h cap not counted" in out


def test_hours_csv_and_pdf_with_a_signature_page(placement, tmp_path):
    code, out, err = run_cli("hours", "--worker", STUDENT, "--store", placement["store"],
                             "--format", "csv")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].startswith("date,minutes,hours,kind,supervisor,credential")
    assert len(lines) == 9 and lines[-1].endswith(",11.25,11.25")
    if not shutil.which("chromium"):
        pytest.skip("PDF needs Chromium")
    pdf, page = tmp_path / "hours.pdf", tmp_path / "hours.html"
    code, out, err = run_cli("hours", "--worker", STUDENT, "--store", placement["store"],
                             "--requirement", "us-example-state-lcsw", "--pdf", pdf,
                             "--html", page)
    assert code == 0, err
    assert pdf.read_bytes().startswith(b"%PDF")
    text = page.read_text()
    assert "class='signatures'" in text and "Received for the board or university" in text
    assert "illustrative example" in text and "<script" not in text


def test_unknown_worker_is_a_one_line_error(placement):
    code, _, err = run_cli("hours", "--worker", "Nobody", "--store", placement["store"])
    assert code == 2 and "no records for worker 'Nobody'" in err and STUDENT in err


# ---------------------------------------------------------------- evidence


def test_evidence_appears_under_the_right_competencies(placement):
    fw = worker_framework(placement["store"], STUDENT)
    items = collect(placement["store"], STUDENT, fw)
    by = {}
    for e in items:
        by.setdefault(e.competency, []).append(e)
    # template annotations: assessments -> c7, values -> c1, observation notes -> c6 c7 c8,
    # the person's feedback -> c6, the student's reflection -> c1
    assert {e.kind for e in by["c7"]} >= {"session", "observation", "worksheet"}
    assert any("strength" in e.quote and e.how == "template" for e in by["c7"])
    assert any(e.prompt == placement["pr_tagged"] and e.how == "tagged"
               and e.by == EDUCATOR for e in by["c7"])
    assert any(e.label and "Observed 2026-02-05" in e.quote for e in by["c6"])
    assert any("Person's feedback" in e.quote for e in by["c6"])
    assert [e.quote[:9] for e in by["c1"] if e.prompt == "ps_values"] == ["Session 1"] + [
        f"Session {n}" for n in (2, 4, 5, 6, 8)]
    tagged = [e for e in by["c2"] if e.how == "tagged"]
    assert len(tagged) == 1 and tagged[0].date == "2026-02-02" and HOSTILE in tagged[0].quote
    assert tagged[0].note == "Raised the family's right to free meals."
    # nothing from the evaluations or the learning agreement, and no private answers
    assert not {e.kind for e in items} & {"learning_agreement", "evaluation"}
    assert gaps(items, fw) == [
        "No evidence yet for competency 3: Engage Anti-Racism, Diversity, Equity, and "
        "Inclusion (ADEI) in Practice",
        "No evidence yet for competency 4: Engage in Practice-Informed Research and "
        "Research-Informed Practice",
        "No evidence yet for competency 5: Engage in Policy Practice",
        "No evidence yet for competency 9: Evaluate Practice with Individuals, Families, "
        "Groups, Organizations, and Communities"]


def test_evidence_map_counts_per_competency_and_month(placement):
    fw = worker_framework(placement["store"], STUDENT)
    items = collect(placement["store"], STUDENT, fw)
    table = evidence_map(items, fw)
    assert list(table.columns) == ["2026-01", "2026-02", "2026-03", "total"]
    assert table.loc["5. Engage in Policy Practice"].tolist() == [0, 0, 0, 0]
    assert int(table["total"].sum()) == len(items)
    two = table.loc["2. Advance Human Rights and Social, Racial, Economic, and "
                    "Environmental Justice"]
    assert two.tolist() == [0, 1, 0, 1]


def test_evidence_command_table_csv_and_self_contained_html(placement, tmp_path):
    code, out, err = run_cli("evidence", "--worker", STUDENT, "--store", placement["store"])
    assert code == 0, err
    assert "No evidence yet for competency 5: Engage in Policy Practice" in out
    code, out, _ = run_cli("evidence", "--worker", STUDENT, "--store", placement["store"],
                           "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("competency,date,source")
    page = tmp_path / "evidence.html"
    code, out, err = run_cli("evidence", "--worker", STUDENT, "--store", placement["store"],
                             "--html", page)
    assert code == 0, err
    text = page.read_text()
    assert "data:image/png;base64," in text and "<script" not in text
    assert "http://" not in text and "https://" not in text  # no CDN, nothing fetched
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "No evidence yet for competency 5" in text


# ---------------------------------------------------------------- evaluations


def test_midpoint_pulls_only_the_evidence_up_to_its_date(evaluated):
    mid = evaluated["midpoint"]
    rec = open_record(mid)
    assert rec.template["kind"] == "evaluation" and rec.path.parent.name == "evaluations"
    seven = intro(mid, "ev_competency__c7")
    assert "Observed 2026\\-02\\-05" in seven and "2026\\-03\\-05" not in seven
    assert "Process recording" in seven and "tagged by Owen Marsh \\(fictional\\)" in seven
    scale = rec.prompts["ev_educator__c7"]
    assert (scale["min"], scale["max"], scale["anchors"]["1"].split(":")[0]) == (
        1, 4, "Not yet evident")
    assert scale["rates"] == {"group": "CSWE EPAS 2022 social work competencies",
                              "item": "7. Assess Individuals, Families, Groups, "
                                      "Organizations, and Communities",
                              "rater": "supervisor"}
    assert "none tagged to this competency yet" in intro(mid, "ev_competency__c5")


def test_final_evaluation_quotes_the_tagged_evidence_escaped(evaluated):
    two = intro(evaluated["final"], "ev_competency__c2")
    assert "**2026\\-02\\-02 · Supervision session (case P\\-02)" in two.replace(
        "\\(case", "(case").replace("02\\)", "02)")
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in two and "<script>" not in two
    assert "\\*laughed\\*" in two and "\\|" in two
    assert "tagged by Lena Hart \\(fictional\\)" in two
    assert "Tag note: Raised the family's right to free meals\\." in two
    assert "Observed 2026\\-03\\-05" in intro(evaluated["final"], "ev_competency__c7")


def test_final_evaluation_locks_when_both_have_signed_and_the_tutor_countersigns(evaluated):
    final = evaluated["final"]
    fill(final, {"ev_self__c1": 3})  # a rating without its evidence note, nothing else
    with pytest.raises(InputError, match=r"required answer\(s\) missing: .*ev_self_note__c1"):
        sign(final, "worker", STUDENT)
    complete(final, {"ev_recommendation": "Pass"})
    with pytest.raises(ConflictError, match="tutor countersigns after them"):
        R.countersign(final, TUTOR)
    assert not sign(final, "worker", STUDENT)["locked"]
    assert sign(final, "supervisor", EDUCATOR)["locked"]
    rec = open_record(final)
    assert rec.locked and rec.review.state == "signed"
    with pytest.raises(LockedError):
        fill(final, {"ev_student_comments": "too late"})
    with pytest.raises(IdentityError, match="names 'Ruth Akande"):
        R.countersign(final, "Someone Else")
    ev = R.countersign(final, TUTOR, "Read with the student at the final meeting.")
    assert ev["type"] == "addendum" and ev["role"] == "tutor" and ev["kind"] == "countersign"
    assert ev["record_sha256"] == open_record(final).state.locking_event["answers_sha256"]
    with pytest.raises(ConflictError, match="already countersigned"):
        R.countersign(final, TUTOR)
    assert R.countersign_problems(open_record(final)) == []
    rep = verify(final)
    assert rep.ok, rep.problems
    assert [a["role"] for a in rep.addenda] == ["tutor"]


# ---------------------------------------------------------------- review workflow


def test_review_submit_comment_return_resubmit_sign(placement):
    obs = placement["observations"][0]
    assert open_record(obs).review.state == "draft"
    R.submit(obs, text="Ready for your notes.")
    with pytest.raises(ConflictError, match="already submitted"):
        R.submit(obs)
    R.comment(obs, "ob_reflection", "Say more about the silence after the second question.")
    with pytest.raises(InputError, match="not a table"):
        R.comment(obs, "ob_reflection", "x", row=1)
    with pytest.raises(InputError, match="no prompt 'nope'"):
        R.comment(obs, "nope", "x")
    R.return_for_revision(obs, "Add what you would try next time.")
    st = open_record(obs).review
    assert st.state == "returned" and st.returns[-1]["name"] == EDUCATOR
    with pytest.raises(ConflictError, match="only a submitted record"):
        R.return_for_revision(obs, "again")
    fill(obs, {"ob_next": "Leave a longer pause before summarising."})
    R.submit(obs)
    fill(obs, {"ob_reflection": "Revised reflection."}, role="worker")
    st = open_record(obs).review
    assert st.state == "submitted" and st.changed_since_submit
    assert "answers changed since" in st.describe()
    sign(obs, "worker", STUDENT)
    sign(obs, "supervisor", EDUCATOR)
    st = open_record(obs).review
    assert st.state == "signed" and len(st.comments) == 1 and len(st.submissions) == 2
    with pytest.raises(LockedError):
        R.comment(obs, "ob_notes", "after the lock")
    with pytest.raises(LockedError):
        R.submit(obs)
    # a tag says what an answer is evidence of: allowed after the lock, and verify agrees
    R.tag(obs, "ob_strengths" if is_answered(open_record(obs).answers.get("ob_strengths"))
          else "ob_notes", ["c9"], role="supervisor")
    assert verify(obs).ok
    kinds = [r["type"] for r in history(obs)]
    assert kinds.count("submit") == 2 and "return" in kinds and "comment" in kinds
    assert kinds[-1] == "tag"
    df = load_store(placement["store"])
    states = df.drop_duplicates("path").set_index("path")["review"]
    assert states[str(obs)] == "signed" and states[str(placement["observations"][1])] == "draft"


def test_comments_on_a_table_row_and_the_review_command(placement):
    path = placement["sessions"][0]
    fill(path, {"ps_actions": [{"action": "Read about strengths-based assessment",
                                "by_when": "2026-01-26"},
                               {"action": "Shadow a duty visit", "by_when": "2026-02-02"}]})
    R.comment(path, "ps_actions", "Which reading? Name it.", row=1, role="supervisor")
    with pytest.raises(InputError, match="there is no row 3"):
        R.comment(path, "ps_actions", "x", row=3)
    R.tag(path, "ps_actions", ["c4"], row=1)
    code, out, err = run_cli("review", path)
    assert code == 0, err
    assert "review: draft" in out and "comment on ps_actions row 1" in out
    assert "evidence: ps_actions row 1 -> cswe-epas-2022:c4" in out
    items = collect(placement["store"], STUDENT, worker_framework(placement["store"], STUDENT))
    row = [e for e in items if e.prompt == "ps_actions"]
    assert len(row) == 1 and row[0].row == 1 and row[0].competency == "c4"
    assert row[0].quote == "Action: Read about strengths-based assessment; By when: 2026-01-26"
    R.tag(path, "ps_actions", [], row=1)  # removed again
    assert not [e for e in collect(placement["store"], STUDENT,
                                   worker_framework(placement["store"], STUDENT))
                if e.prompt == "ps_actions"]


def test_cli_review_commands_are_one_line_errors(placement):
    path = placement["sessions"][3]
    code, out, err = run_cli("submit", path, "--note", "week 4")
    assert code == 0 and "submitted" in out, err
    code, _, err = run_cli("return", path, "--note", "")
    assert code == 2 and "empty" in err
    code, out, err = run_cli("return", path, "--note", "Add the case discussed.")
    assert code == 0, err
    code, _, err = run_cli("tag", path, "--prompt", "ps_values", "--competency", "c42")
    assert code == 2 and "no competency 'c42'" in err and len(err.splitlines()) == 1
    code, out, err = run_cli("tag", path, "--prompt", "ps_values", "--competency", "c3",
                             "--note", "power in the family meeting")
    assert code == 0 and "cswe-epas-2022:c3" in out, err
    code, _, err = run_cli("countersign", path, "--name", TUTOR)
    assert code == 1 and "not signed by both" in err


def test_private_answers_cannot_be_tagged(placement):
    path = placement["sessions"][6]  # the full session template has private prompts
    prompts = prompt_index(load_notebook(path))
    private = [pid for pid, p in prompts.items() if p.get("private") and p["kind"] == "long_text"]
    if not private:
        pytest.skip("this session template has no private text prompt")
    fill(path, {private[0]: "Tired this week."})
    with pytest.raises(InputError, match="private"):
        R.tag(path, private[0], ["c1"])


# ---------------------------------------------------------------- a renamed fork


def test_a_renamed_fork_of_a_framework_still_works(placement, tmp_path):
    fork = tmp_path / "my-templates"
    shutil.copytree(ROOT / "templates", fork)
    src = fork / "frameworks" / "cswe-epas-2022.yaml"
    data = yaml.safe_load(src.read_text())
    data.update(name="my-programme-epas", title="My programme's field competencies",
                version="1.1", forked_from="cswe-epas-2022")
    data["competencies"][6]["title"] = "Assess (our programme's wording)"
    src.unlink()
    (fork / "frameworks" / "my-programme-epas.yaml").write_text(
        yaml.safe_dump(data, sort_keys=False))
    # the templates still name cswe-epas-2022: the fork's forked_from resolves them
    code, out, err = run_cli("templates", "check", fork)
    assert code == 0, err
    assert "forked from cswe-epas-2022" in out
    store = placement["store"]
    other = "Sam Okoro (fictional)"
    la = new_workbook(worker=other, supervisor=EDUCATOR, date="2026-01-13",
                      template="learning_agreement", store=store, templates=str(fork),
                      params={"framework": "my-programme-epas"})
    assert open_record(la).prompts["la_goal__c7"]["competency"] == "my-programme-epas:c7"
    obs = new_workbook(worker=other, supervisor=EDUCATOR, date="2026-02-10",
                       template="observation", store=store, cases=["P-09"],
                       templates=str(fork))
    fill(obs, {"ob_notes": "Observed: a careful, unhurried assessment conversation."})
    fw = worker_framework(store, other)
    assert fw.name == "my-programme-epas" and fw.forked_from == "cswe-epas-2022"
    items = collect(store, other, fw)
    assert {e.competency for e in items} == {"c6", "c7", "c8"}
    R.tag(obs, "ob_notes", ["my-programme-epas:c9"])
    assert "c9" in {e.competency for e in collect(store, other, fw)}
    mid = new_workbook(worker=other, supervisor=EDUCATOR, date="2026-03-03",
                       template="midpoint_evaluation", store=store, templates=str(fork))
    rec = open_record(mid)
    assert rec.template["framework"]["name"] == "my-programme-epas"
    assert rec.info["parameters"]["framework"] == "my-programme-epas"
    sections = {s["id"]: s for s in rec.nb["metadata"][META]["prompt_set"]["sections"]}
    assert sections["ev_competency__c7"]["title"].endswith("Assess (our programme's wording)")
    assert "careful, unhurried" in sections["ev_competency__c7"]["intro"]
    code, out, err = run_cli("evidence", "--worker", other, "--store", store)
    assert code == 0 and "My programme's field competencies" in out, err


def test_a_template_needing_a_framework_says_how_to_choose_one(tmp_path):
    folder = tmp_path / "tpl"
    shutil.copytree(ROOT / "templates", folder)
    path = folder / "prompts" / "midpoint_evaluation.yaml"
    path.write_text(path.read_text().replace("  framework: cswe-epas-2022\n", "  framework: ''\n"))
    with pytest.raises(InputError, match="make a learning agreement .* --param framework=NAME"):
        new_workbook(worker="New Student (fictional)", supervisor=EDUCATOR, date="2026-03-01",
                     template="midpoint_evaluation", store=tmp_path / "s", templates=str(folder))
    assert not [p for p in (tmp_path / "s").rglob("*") if p.is_file()]  # nothing half-made


# ---------------------------------------------------------------- shown in the workbook


def test_export_of_an_evaluation_shows_the_quoted_evidence_escaped(evaluated, tmp_path):
    from supervision_kit.export.html import export

    page = export(evaluated["midpoint"], out=tmp_path / "mid.html").read_text()
    assert "Observed 2026-02-05" in page and "<script>alert(1)" not in page
    assert "Process recording" in page
    redacted = export(evaluated["midpoint"], out=tmp_path / "red.html", redact=True).read_text()
    assert "Observed 2026-02-05" not in redacted
    assert "Evidence quotes are left out of a redacted export" in redacted


class _Wb:
    """What a panel needs of an open workbook (kernel/panels.py's Workbook protocol)."""

    def __init__(self, path):
        rec = open_record(path)
        self.path, self.info, self.session = path, rec.info, None

    def flush(self):
        pass

    def refresh_lock(self):
        return open_record(self.path).state

    def show_restored(self, events):
        pass


def _find(widget, cls, description=None):
    found = [widget] if isinstance(widget, cls) and (
        description is None or getattr(widget, "description", None) == description) else []
    for child in getattr(widget, "children", ()):
        found += _find(child, cls, description)
    return found


def test_review_panel_hands_in_returns_and_tags(placement):
    import ipywidgets as W

    from supervision_kit.kernel.review import review_panel

    path = new_workbook(worker=STUDENT, supervisor=EDUCATOR, date="2026-03-20",
                        template="observation", store=placement["store"], cases=["P-03"])
    fill(path, {"ob_contact": "Group session", "ob_notes": f"Notes: {HOSTILE}"})
    panel = review_panel(_Wb(path))
    status = _find(panel, W.HTML)[1]
    assert "draft" in status.value
    [note] = _find(panel, W.Textarea)[:1]
    note.value = "Please look at my notes."
    _find(panel, W.Button, "Hand in for review")[0].click()
    assert open_record(path).review.state == "submitted" and "submitted" in status.value
    note.value = "Add the person's feedback."
    _find(panel, W.Button, "Return for revision")[0].click()
    assert open_record(path).review.returns[-1]["text"] == "Add the person's feedback."
    assert "Add the person&#x27;s feedback." in status.value
    tag_prompt = _find(panel, W.Dropdown, "Answer")[0]
    tag_prompt.value = "ob_notes"
    comps = _find(panel, W.SelectMultiple, "Evidence for")[0]
    assert comps.options[0][1] == "cswe-epas-2022:c1"
    comps.value = ("cswe-epas-2022:c3",)
    _find(panel, W.Button, "Tag as evidence")[0].click()
    assert open_record(path).review.tags[("ob_notes", None)]["competencies"] == [
        "cswe-epas-2022:c3"]
    assert "&lt;script&gt;" not in status.value  # the answer is not shown, its label is
    assert "cswe-epas-2022:c3" in status.value


def test_progress_review_shows_the_evidence_map_and_gaps(placement, monkeypatch):
    from supervision_kit.kernel import panels

    shown, figures = [], []
    monkeypatch.setattr(panels, "_html", shown.append)
    monkeypatch.setattr(panels, "_show", figures.append)
    progress = placement["store"] / "P-01" / "2026-03-30-progress.ipynb"
    wb = _Wb(placement["sessions"][0])
    wb.info = dict(wb.info, session_date="2026-03-30", store=str(placement["store"]))
    wb.path = progress
    panels.evidence_section(wb)
    assert len(figures) == 1 and figures[0].get_axes()
    text = "".join(shown)
    assert "Evidence map" in text and "Lena Hart (fictional)" in text
    assert "No evidence yet for competency 5: Engage in Policy Practice" in text
