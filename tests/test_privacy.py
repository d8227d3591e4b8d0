"""PII detectors (true and false positives), scan over workbooks and stores, redaction,
inline warnings and parameter scrubbing. All numbers and names are made up."""

import datetime as dt
import json
import os
from collections import Counter
from pathlib import Path

import pytest
import yaml

from supervision_kit.core.errors import InputError, WorkbookError
from supervision_kit.core.workbook import ANSWER_MIME
from supervision_kit.privacy.scan import (
    DETECTORS,
    find,
    inline_warning,
    load_deny_list,
    nhs_check_ok,
    parameter_leaks,
    redact_text,
    scan,
)
from supervision_kit.record import fill
from tests.helpers import load_json, run_cli


def kinds(text, **kw):
    return [(k, text[s:e]) for k, s, e in find(text, **kw)]


@pytest.mark.parametrize("text,kind,match", [
    ("write to sam.river@example.org today", "email", "sam.river@example.org"),
    ("mobile 07700 900123", "phone", "07700 900123"),
    ("on +44 7700 900123", "phone", "+44 7700 900123"),
    ("landline (020) 7946 0018", "phone", "(020) 7946 0018"),
    ("ring 0161-496-0000 please", "phone", "0161-496-0000"),
    ("abroad +33 1 23 45 67 89", "phone", "+33 1 23 45 67 89"),
    ("US (202) 555-0147", "phone", "(202) 555-0147"),
    ("NHS no 943 476 5919", "nhs", "943 476 5919"),
    ("NHS no 943-476-5919", "nhs", "943-476-5919"),
    ("ref 9434765919", "nhs", "9434765919"),
    ("ssn 219-09-9999", "ssn", "219-09-9999"),
    ("she was born on 3/4/2015", "dob", "3/4/2015"),
    ("DOB: 12 March 1987", "dob", "12 March 1987"),
    ("date of birth 21.07.84", "dob", "21.07.84"),
    ("turned up on 1984-07-21", "dob", "1984-07-21"),
    ("lives near SW1A 1AA", "postcode", "SW1A 1AA"),
    ("lives near m1 1ae", "postcode", "m1 1ae"),
    ("at M4 4AB today", "postcode", "M4 4AB"),
    ("postcode DN551PT", "postcode", "DN551PT"),
    ("NHS no 999 723 1430", "nhs", "999 723 1430"),  # check digit 0
    ("nhs 9999284140", "nhs", "9999284140"),  # check digit 0
    ("NI number AB 12 34 56 C", "ni", "AB 12 34 56 C"),
    ("NINO AB123456C.", "ni", "AB123456C"),
    ("NI: AB123456 (suffix missing)", "ni", "AB123456"),
    ("ssn 219 09 9999", "ssn", "219 09 9999"),
    ("SSN: 078051120", "ssn", "078051120"),
    ("social security number 078051120", "ssn", "078051120"),
    ("DOB 12-Mar-1984", "dob", "12-Mar-1984"),
    ("born 12/3/84", "dob", "12/3/84"),
    ("d.o.b. 3 March 1984", "dob", "3 March 1984"),
    ("date of birth: 1984-03-12", "dob", "1984-03-12"),
    ("born on the 3rd of March 1984", "dob", "3rd of March 1984"),
    ("aged 42, born 1984", "dob", "1984"),
    ("born in March 2025", "dob", "March 2025"),
    ("US (202) 555-0147 or 1-800-555-0199", "phone", "1-800-555-0199"),
    ("dial 00 61 491 570 157", "phone", "00 61 491 570 157"),
    ("call 2025550163 tonight", "phone", "2025550163"),
    ("US (202) 555-0147 ext. 3", "phone", "(202) 555-0147 ext. 3"),
    ("old number 01632 960471", "phone", "01632 960471"),  # Ofcom drama range: not "valid"
])
def test_detects(text, kind, match):
    assert (kind, match) in kinds(text)


@pytest.mark.parametrize("text", [
    "Session on 2026-03-02; next review 12/01/2025.",
    "Rated 4 on the 1-5 scale, then 7/10 a week later.",
    "We spoke for 10 minutes, then 45 minutes at 10:30.",
    "Goal 2 of 3; GAS score -1; T = 50.0; RCI 1.96.",
    "Room 101, 3-5 times a week, year 2019, page 12.",
    "Invalid NHS-like number 9434765910.",
    "All-one-digit 0000000000 and 1111111111.",
    "Not an SSN: 000-12-3456, 666-12-3456, 123-00-4567.",
    "Version 0.1.2 and 1.10.3; 2.5 hours supervision.",
    "Prices £12.50 and 3rd place; Q3 report; a1 b2.",
    "Flat B1, room B12, bus 4A, the A40 and the M4, 4th junction.",
    "Traffic on the M4 4th junction; flat C2 4th floor.",
    "Example NI number QQ 12 34 56 C; not NI prefixes: BG 12 34 56 A, DA 12 34 56 A.",
    "Case 123456789 and ticket 219 09 99999; 000-12-3456.",
    "Aged 42; session on 12 March 2026; course ran from 2022 to 2024.",
    "Order 5551234 and invoice 1234567890; extension 4421.",
    "Filler +44 4444 444444 and +1 222 222 2222.",
    "Weeks 03 04 05 06 07 and items 01-02-03-04-05; codes 0123 4567 and 01 02 03 04.",
])
def test_false_positives(text):
    assert kinds(text) == []


def test_check_digit_zero_is_an_nhs_number():
    # the weighted sum of 999723143 is a multiple of 11: 11 - 0 = 11, which stands for 0
    assert sum(int(d) * w for d, w in zip("999723143", range(10, 1, -1), strict=True)) % 11 == 0
    assert nhs_check_ok("9997231430")
    assert not any(nhs_check_ok(f"999723143{d}") for d in range(1, 10))
    assert kinds("NHS 999-723-1430") == [("nhs", "999-723-1430")]


def test_nhs_check_needs_exactly_ten_digits():
    assert nhs_check_ok("9434765919")
    assert not nhs_check_ok("94347659190")  # eleven digits: a valid number and one more
    assert not nhs_check_ok("943476591")
    assert not nhs_check_ok("94347659a9")  # ten characters, not ten digits


@pytest.mark.parametrize("text,flagged", [
    # a whole date from 1900 to ten years ago reads as a date of birth, birth word or not
    ("seen on 3 March 1990 at home", True),
    ("seen on 12/03/1990 at home", True),
    ("seen on 12/31/1984 at home", True),  # only the month-first reading is a date
    ("seen on 29/02/1983 at home", False),  # no 29 February in 1983
    ("met on 3 March 2025", False),  # too recent to be an adult's birth date
    # every month by name, on its last day (a month read wrongly makes the date invalid)
    *[(f"born {d} {m} 1984", True) for d, m in (
        ("31", "Jan"), ("29", "Feb"), ("31", "Mar"), ("30", "Apr"), ("31", "May"),
        ("30", "Jun"), ("31", "Jul"), ("31", "Aug"), ("30", "Sept"), ("31", "Oct"),
        ("30", "November"), ("31", "Dec"))],
    # two-digit years count only beside a birth word, on any date that exists in some year
    ("born 29/02/83", True),
    ("dob 29 Feb '83", True),
    ("seen 12/03/84", False),
])
def test_date_of_birth_spellings(text, flagged):
    assert (("dob" in {k for k, _m in kinds(text)}) is flagged), kinds(text)


def test_redaction_keeps_to_the_chosen_detectors():
    text = "mail sam@example.org, NHS 943 476 5919"
    assert redact_text(text, ["email"]) == "mail [email removed], NHS 943 476 5919"
    assert redact_text(text) == "mail [email removed], NHS [nhs removed]"


def test_parameter_leaks_names_exactly_the_cells_that_show_a_name():
    nb = {"metadata": {"supervision_kit": {"workbook": {"worker": "Morgan Tessaly",
                                                        "supervisor": "Al"}}},
          "cells": [
              {"cell_type": "markdown", "source": "Morgan Tessaly's notes", "metadata": {}},
              {"cell_type": "code", "source": ["x = 1\n", "who = 'morgan tessaly'"],
               "outputs": []},
              {"cell_type": "code", "source": "wb.ask('story')", "outputs": [
                  {"output_type": "display_data",
                   "data": {ANSWER_MIME: {"id": "story", "value": "Morgan Tessaly"},
                            "text/markdown": "> Morgan Tessaly"}}]},
              {"cell_type": "code", "source": "print(1)", "outputs": [
                  {"output_type": "stream", "name": "stdout", "text": "by Morgan Tessaly"}]},
              {"cell_type": "code", "source": "show()", "outputs": [
                  {"output_type": "display_data",
                   "data": {"text/html": "<b>Morgan Tessaly</b>"}}]},
              {"cell_type": "code", "source": "Al = 2  # a name under 3 letters is ignored",
               "outputs": []},
          ]}
    assert parameter_leaks(nb) == ["cell 2", "cell 4", "cell 5"]
    nb["metadata"]["supervision_kit"]["workbook"]["worker"] = "Mo"
    assert parameter_leaks(nb) == []
    nb["metadata"]["supervision_kit"]["workbook"]["supervisor"] = "Ama"  # three letters count
    nb["cells"][5]["source"] = ["x = 1\n", "# Ama"]
    assert parameter_leaks(nb) == ["cell 6"]


def test_findings_say_where_and_mask_the_text():
    from supervision_kit.privacy.scan import scan_answers

    found = scan_answers({"rows": [{"a": "x"}, {"said": "mail sam@example.org"}],
                          "many": ["NHS 943 476 5919"], "notes": {"k": "ring 07700 900123"}},
                         file="f.ipynb")
    assert [(f.line(), f.start, f.end) for f in found] == [
        ("f.ipynb: rows (row 2, said): email s••@•••••••.•••", 5, 20),
        ("f.ipynb: many: nhs 9•• ••• ••••", 4, 16),
        ("f.ipynb: notes (k): phone 0•••• ••••••", 5, 17)]


def test_scan_reports_what_it_skipped_and_goes_on(kinds_workbook, tmp_path):
    store = tmp_path / "scanned"
    (store / "case-1").mkdir(parents=True)
    real = store / "case-1" / "b-real.ipynb"
    real.write_bytes(kinds_workbook.read_bytes())
    fill(real, {"story": "mail sam@example.org"})
    (store / "case-1" / "a-link.ipynb").symlink_to(real)
    (store / "case-1" / "c-broken.ipynb").write_text("{")
    res = scan(store)
    assert res.files == 1 and [f.file for f in res.findings] == [str(real)]
    assert f"{store / 'case-1' / 'a-link.ipynb'}: symbolic link (not followed)" in res.skipped
    assert any(str(store / "case-1" / "c-broken.ipynb") in s for s in res.skipped)
    assert len(res.skipped) == 2
    with pytest.raises(WorkbookError, match="a-link.ipynb: is a symbolic link"):
        scan(store / "case-1" / "a-link.ipynb")  # named on its own: a clear refusal
    with pytest.raises(InputError, match="nowhere: no such workbook or store folder"):
        scan(tmp_path / "nowhere")


def test_ni_prefix_and_suffix_rules():
    for prefix in ("AB", "CE", "JG", "PW", "ZX", "HZ", "OA"):
        assert kinds(f"{prefix} 12 34 56 C") == [("ni", f"{prefix} 12 34 56 C")], prefix
    for prefix in ("QQ", "DA", "FA", "IA", "UA", "VA", "AD", "AF", "AI", "AO", "AQ", "AU", "AV",
                   "BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
        assert kinds(f"{prefix} 12 34 56 C") == [], prefix
    assert kinds("AB 12 34 56 E") == []  # suffix is A-D
    assert kinds("AB 12 34 56") == []  # no suffix and no "NI" before it
    assert kinds("XAB123456C") == []  # inside a longer word


def test_ssn_validity_rules_hold_for_every_spelling():
    for bad in ("000", "666", "900", "987"):
        assert kinds(f"SSN {bad}-12-3456") == kinds(f"SSN {bad} 12 3456") == []
        assert kinds(f"SSN {bad}123456") == []
    assert kinds("SSN 123-00-4567") == kinds("SSN 123 45 0000") == kinds("SSN 123004567") == []
    assert kinds("219 09-9999") == []  # mixed separators
    assert kinds("case 219099999") == []  # bare nine digits need "SSN" before them


def test_postcode_needs_full_form_in_one_case():
    assert kinds("SW1A 1AA") == [("postcode", "SW1A 1AA")]
    assert kinds("B33 8TH") == [("postcode", "B33 8TH")]  # a real inward code that reads 8th
    for text in ("b33 8th", "M4 4th", "m4 4th", "SW1A 1aa", "sw1a1aa", "XSW1A 1AA", "flat B1",
                 "room B12", "bus 4A", "A40", "QA1 1AA", "SW1A 1AI"):
        assert kinds(text) == [], text


def test_ni_is_a_detector_with_a_label():
    from supervision_kit.core import errors
    from supervision_kit.privacy import scan as scan_module

    assert "ni" in DETECTORS
    assert "National Insurance" in inline_warning("AB 12 34 56 C")
    assert redact_text("NI AB123456C.") == "NI [ni removed]."
    assert scan_module.FindingsFound is errors.FindingsFound


def test_invalid_check_digit_is_not_an_nhs_number():
    assert nhs_check_ok("9434765919")
    assert not nhs_check_ok("9434765918")
    # weighted sum 12 (mod 11 = 1) -> check digit would be 10: such numbers are never issued
    assert not any(nhs_check_ok(f"100000001{d}") for d in range(10))
    assert "nhs" not in [k for k, _ in kinds("943 476 5918")]


def test_birth_range_moves_with_today():
    recent = f"{dt.date.today().year - 2}-05-01"
    old = f"{dt.date.today().year - 40}-05-01"
    assert kinds(f"met on {recent}") == []
    assert kinds(f"met on {old}") == [("dob", old)]
    assert kinds(f"born {recent}") == [("dob", recent)]


def test_detectors_are_configurable():
    text = "sam@example.org, 07700 900123"
    assert [k for k, _ in kinds(text, detectors=["email"])] == ["email"]
    with pytest.raises(InputError, match="unknown detector"):
        find(text, detectors=["emails"])


def test_deny_list_names_whole_words_any_case():
    assert kinds("Met ALEX Moor and alexandra", names=["Alex Moor", "Alex"]) == [
        ("name", "ALEX Moor")]


def test_redaction():
    text = "Mum (sam@example.org, 07700 900123) said Alex was born 3 May 2016."
    out = redact_text(text, names=["Alex"])
    assert out == ("Mum ([email removed], [phone removed]) said [name removed] was born "
                   "[dob removed].")


def test_scan_workbook_and_store(kinds_workbook, make_workbook, tmp_path):
    fill(kinds_workbook, {"story": "Her number is 07700 900123.\nNothing else.",
                          "rows": [{"who": "Client", "said": "I'm Robin Fell"}]})
    deny = tmp_path / "deny.txt"
    deny.write_text("# names known in this team\nRobin Fell\n\n")
    res = scan(kinds_workbook, deny_list=deny)
    assert [(f.prompt, f.kind, f.where) for f in res.findings] == [
        ("story", "phone", ""), ("rows", "name", "row 1, said")]
    line = res.findings[0].line()
    assert "900123" not in line and "0••••" in line
    clean = make_workbook(case="case-02")
    res = scan(clean.parent.parent)
    assert res.files == 2 and len(res.findings) == 1  # no deny-list: the name is not flagged
    code, out, err = run_cli("scan", clean.parent.parent, "--deny-list", deny)
    assert code == 1 and "phone" in out and "Robin" not in out and "Traceback" not in err
    code, out, err = run_cli("scan", clean)
    assert code == 0 and "0 possible" in out
    code, out, err = run_cli("scan", kinds_workbook, "--skip", "phone")
    assert code == 0
    code, out, err = run_cli("scan", kinds_workbook, "--deny-list", tmp_path / "missing.txt")
    assert code == 2 and "deny-list" in err


def test_scan_store_skips_symlinks_and_broken_files(kinds_workbook, tmp_path):
    store = kinds_workbook.parent.parent
    outside = tmp_path / "outside.ipynb"
    outside.write_text(kinds_workbook.read_text())
    fill(outside, {"story": "sam@example.org"})
    os.symlink(outside, kinds_workbook.parent / "link.ipynb")
    (kinds_workbook.parent / "broken.ipynb").write_text('{"cells": [')
    res = scan(store)
    assert res.files == 1 and res.findings == []
    assert len(res.skipped) == 2


def test_inline_warning_names_kinds_not_text():
    msg = inline_warning("Call 07700 900123 or sam@example.org")
    assert "phone number" in msg and "e-mail" in msg
    assert "900123" not in msg and "sam@" not in msg
    assert inline_warning("Spoke about goals for 10 minutes.") == ""
    assert "NHS" in inline_warning([{"said": "943 476 5919"}])
    # kinds in order of how specific they are, each named once, in the words people read
    assert "(an e-mail address, a phone number)" in msg
    assert msg.startswith("<span") and "role='status'" in msg


def test_inline_warning_uses_the_deny_list_named_by_the_environment(tmp_path, monkeypatch):
    deny = tmp_path / "deny.txt"
    deny.write_text("# names not to write\n\nJo Bloggs\n  Sam Ray  \n")
    assert load_deny_list(deny) == ["Jo Bloggs", "Sam Ray"]
    assert "deny-list" not in inline_warning("Met Jo Bloggs today")
    monkeypatch.setenv("SUPERVISION_KIT_DENY_LIST", str(deny))
    assert "(a name from the deny-list)" in inline_warning("Met Jo Bloggs today")
    monkeypatch.setenv("SUPERVISION_KIT_DENY_LIST", str(tmp_path / "missing.txt"))
    assert inline_warning("Met Jo Bloggs today") == ""  # a bad list never breaks typing


def test_widget_warns_inline(kinds_workbook):
    from supervision_kit.kernel.form import Workbook

    wb = Workbook(kinds_workbook)
    try:
        wb.ask("story")
        wb._changed("story", "Her e-mail is sam@example.org")
        assert "e-mail address" in wb.fields["story"].note.value
        wb._changed("story", "No details here.")
        assert wb.fields["story"].note.value == ""
    finally:
        wb.close()


def test_names_are_not_left_in_code_cells(make_workbook):
    path = make_workbook(worker="Morgan Tessaly", supervisor="Quill Ambersen")
    nb = load_json(path)
    assert parameter_leaks(nb) == []
    assert nb["metadata"]["supervision_kit"]["workbook"]["worker"] == "Morgan Tessaly"
    params = next(c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", []))
    assert "Morgan" not in "".join(params["source"])
    # a leak is detected
    params["source"] = 'worker = "Morgan Tessaly"'
    assert parameter_leaks(nb) != []
    assert json.dumps(nb)  # still a plain JSON document


# ---------------------------------------------------------------- labelled phrases

PHRASES = yaml.safe_load((Path(__file__).parent / "fixtures" / "pii_phrases.yaml")
                         .read_text(encoding="utf-8"))


def measure(phrases=PHRASES):
    """Recall by kind over the identifiers, false alarms over the clean phrases."""
    names = phrases["names"]
    present, caught = Counter(), Counter()
    misses, alarms, wrong = [], [], []
    clean = 0
    for item in phrases["phrases"]:
        text = item["text"]
        found = kinds(text, names=names)
        if not item["kinds"]:
            clean += 1
            if found:
                alarms.append((text, found))
            continue
        expected = list(zip(item["kinds"], map(str, item["match"]), strict=True))
        for kind, match in expected:
            present[kind] += 1
            if (kind, match) in found:
                caught[kind] += 1
            else:
                misses.append((kind, match, found))
        wrong += [(text, f) for f in found if f not in expected]
    return present, caught, clean, misses, alarms, wrong


def test_fixture_is_labelled_and_large_enough():
    items = PHRASES["phrases"]
    positive = [i for i in items if i["kinds"]]
    assert len(items) >= 80 and 0.4 <= len(positive) / len(items) <= 0.6
    assert all(len(i["kinds"]) == len(i.get("match", [])) for i in items)
    assert {k for i in items for k in i["kinds"]} == set(DETECTORS)
    assert len({i["text"] for i in items}) == len(items)


def test_recall_and_false_alarms_on_labelled_phrases():
    present, caught, clean, misses, alarms, wrong = measure()
    for kind in DETECTORS:
        print(f"recall {kind:9} {caught[kind]:2}/{present[kind]:2} "
              f"= {caught[kind] / present[kind]:.0%}")
    recall = sum(caught.values()) / sum(present.values())
    false_alarms = len(alarms) / clean
    print(f"recall overall {sum(caught.values())}/{sum(present.values())} = {recall:.1%}; "
          f"false alarms {len(alarms)}/{clean} = {false_alarms:.1%}")
    print("missed:", misses, "\nfalse alarms:", alarms, "\nwrong kind or extent:", wrong)
    assert recall >= 0.95, misses
    assert all(caught[k] / present[k] >= 0.75 for k in DETECTORS), misses
    assert false_alarms <= 0.05, alarms
    assert wrong == []
