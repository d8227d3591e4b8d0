"""Sign-off, lock, addenda, verification and history (API and real CLI)."""

import json
import shutil

import pytest

from supervision_kit.core import journal as jr
from supervision_kit.core.errors import ConflictError, InputError, LockedError
from supervision_kit.core.state import answers_digest
from supervision_kit.core.store import journal_path
from supervision_kit.core.workbook import ANSWER_MIME, META, open_record, read_answers
from supervision_kit.record import fill, finalize
from supervision_kit.signoff import add_addendum, history, sign, verify
from tests.helpers import load_json, run_cli, set_mirror, source

ANSWERS = {"story": "We met in the office.\nIt went <b>well</b>.", "mood": 4,
           "pick": "Yes", "many": ["Red"],
           "rows": [{"who": "Worker", "said": "Hello", "level": 1, "due": None}]}


def rewrite_journal(path, change):
    """Apply ``change(events)`` to a journal and write it back with a fresh, valid chain."""
    jp = journal_path(path)
    events = jr.read_journal(jp).events
    change(events)
    prev, lines = jr.GENESIS, []
    for ev in events:
        ev["prev"] = prev
        ev["h"] = prev = jr.chain_hash(prev, ev)
        lines.append(jr.canonical(ev))
    jp.write_text("\n".join(lines) + "\n")


def test_both_signatures_lock_the_record(filled):
    first = sign(filled, "worker", "W. Test")
    assert not first["locked"] and "supervisor" in first["waiting"]
    assert first["name"] == "W. Test" and first["t"].endswith("Z")
    assert first["template"] == "kinds" and first["template_version"] == "0.1"
    assert first["answers_sha256"] == answers_digest(read_answers(filled)["answers"])[0]
    assert set(first["prompts"]) == set(ANSWERS)
    assert sign(filled, "supervisor", "S. Test")["locked"]
    assert open_record(filled).locked
    with pytest.raises(LockedError, match="locked"):
        fill(filled, {"story": "a late change"})
    with pytest.raises(LockedError):
        sign(filled, "worker", "W. Test")
    rep = verify(filled)
    assert rep.ok and rep.locked, rep.problems
    assert rep.signatures["worker"]["name"] == "W. Test"


def test_digest_is_stable_and_newline_normalised():
    a = answers_digest({"b": "x\r\ny", "a": 1, "empty": ""})
    b = answers_digest({"a": 1, "b": "x\ny"})
    assert a == b
    assert answers_digest({"a": 1, "b": "x\ny "})[0] != a[0]


def test_nothing_to_sign_and_bad_names(kinds_workbook):
    with pytest.raises(InputError, match="no answers"):
        sign(kinds_workbook, "worker", "W")
    fill(kinds_workbook, {"mood": 3})
    for bad in ("", "   ", "two\nlines", "x" * 121):
        with pytest.raises(InputError):
            sign(kinds_workbook, "worker", bad)
    with pytest.raises(InputError, match="role"):
        sign(kinds_workbook, "client", "C")
    assert not journal_path(kinds_workbook).read_text().count('"sign"')


def test_edit_after_one_signature_needs_a_new_signature(filled):
    sign(filled, "worker", "W. Test")
    fill(filled, {"when": "2026-04-01"}, role="supervisor")
    res = sign(filled, "supervisor", "S. Test")
    assert not res["locked"] and "must sign again" in res["waiting"]
    rep = verify(filled)
    assert not rep.ok
    assert any("'when'" in p and "added after the worker signed" in p for p in rep.problems)
    assert sign(filled, "worker", "W. Test")["locked"]
    assert verify(filled).ok


def test_hand_edit_of_the_finalized_ipynb_is_caught(locked):
    finalize(locked)
    assert verify(locked).ok
    nb = load_json(locked)
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            rec = out.get("data", {}).get(ANSWER_MIME)
            if rec and rec["id"] == "story":
                rec["value"] = "We never met."
    locked.write_text(json.dumps(nb))
    rep = verify(locked)
    assert not rep.ok
    assert any("'story'" in p for p in rep.problems)
    assert not any("'mood'" in p for p in rep.problems)
    code, out, err = run_cli("verify", locked)
    assert code == 1 and "'story'" in err and "Traceback" not in err
    assert "CHANGED: answer to 'story'" in out


def test_edit_of_only_the_shown_markdown_is_caught(locked):
    finalize(locked)
    text = locked.read_text()
    assert "went &lt;b&gt;well&lt;/b&gt;" in text
    locked.write_text(text.replace("went &lt;b&gt;well", "went &lt;b&gt;badly", 1))
    assert any("'story'" in p and "edited by hand" in p for p in verify(locked).problems)


def test_live_notebook_edit_is_caught_without_finalize(locked):
    # an answer output edited into a notebook that was saved while open (never finalized)
    nb = load_json(locked)
    from supervision_kit.core.mirror import answer_output
    from supervision_kit.core.workbook import prompt_index

    prompt = prompt_index(nb)["mood"]
    t = jr.read_journal(journal_path(locked)).answers()["mood"]["t"]
    set_mirror(nb, "mood", answer_output(prompt, 1, t))
    locked.write_text(json.dumps(nb))
    rep = verify(locked)
    assert any("'mood'" in p and "differs from what the worker signed" in p
               for p in rep.problems)


def test_journal_edits_are_caught_and_named(locked):
    jp = journal_path(locked)
    lines = jp.read_text().splitlines()
    ev = json.loads(lines[0])
    assert ev["id"] == "story"
    ev["v"] = "Something else."
    jp.write_text("\n".join([jr.canonical(ev), *lines[1:]]) + "\n")
    problems = verify(locked).problems
    assert any("answer to 'story'" in p and "altered after it was written" in p
               for p in problems)
    assert any("'story'" in p and "changed after the worker signed" in p for p in problems)


def test_rewritten_chain_still_names_the_changed_prompt(locked):
    def change(events):
        next(e for e in events if e.get("id") == "mood")["v"] = 1

    rewrite_journal(locked, change)
    problems = verify(locked).problems
    assert any("'mood'" in p and "changed after the supervisor signed" in p for p in problems)


def test_removed_or_reordered_events_break_the_chain(locked):
    jp = journal_path(locked)
    lines = jp.read_text().splitlines()
    jp.write_text("\n".join([lines[1], lines[0], *lines[2:]]) + "\n")
    assert any("hash chain breaks" in p for p in verify(locked).problems)


def test_forged_signature_against_a_finalized_copy_is_caught(locked):
    finalize(locked)

    def change(events):  # change an answer AND re-sign it consistently in the journal
        events[:] = [e for e in events if e.get("type") != "sign"]
        next(e for e in events if e.get("id") == "mood")["v"] = 2

    rewrite_journal(locked, change)
    problems = verify(locked).problems
    assert any("missing from or different in the journal" in p for p in problems)


def test_signed_finalized_ipynb_verifies_alone_and_stays_locked(locked, tmp_path):
    finalize(locked)
    journal_path(locked).unlink()
    rep = verify(locked)
    assert rep.ok and rep.locked, rep.problems
    assert any("alone" in n for n in rep.notes)
    with pytest.raises(LockedError):
        fill(locked, {"story": "after deleting the journal"})
    # a copy elsewhere verifies too
    copy = tmp_path / "copy.ipynb"
    shutil.copy(locked, copy)
    assert verify(copy).ok


def test_signature_copied_to_another_workbook_fails(locked, make_workbook):
    from supervision_kit.record import fill as fill_other

    other = make_workbook(case="case-02", template="kinds",
                          templates=str(__import__("tests.helpers").helpers.FIXTURE_TEMPLATES))
    fill_other(other, ANSWERS)
    shutil.copy(journal_path(locked), journal_path(other))
    assert any("different" in p or "workbook_id" in p for p in verify(other).problems)


def test_addenda_are_appended_shown_and_covered(locked):
    with pytest.raises(InputError):
        add_addendum(locked, "worker", "   ")
    ev = add_addendum(locked, "supervisor", "Correction: the review is in May.\r\nSecond line",
                      name="S. Test")
    assert ev["type"] == "addendum" and ev["text"].endswith("May.\nSecond line")
    finalize(locked)
    nb = load_json(locked)
    shown = [c for c in nb["cells"] if c.get("metadata", {}).get(META, {}).get("signoff_cell")]
    assert len(shown) == 1 and "Correction: the review is in May\\." in source(shown[0])
    assert nb["metadata"][META]["signoff"]["addenda"][0]["h"] == ev["h"]
    assert verify(locked).ok
    # tamper with the addendum in the journal
    jp = journal_path(locked)
    jp.write_text(jp.read_text().replace("review is in May", "review is in June"))
    problems = verify(locked).problems
    assert any("addendum" in p for p in problems)


def test_addendum_needs_a_locked_record(filled):
    with pytest.raises(ConflictError, match="not locked"):
        add_addendum(filled, "worker", "too early")


def test_shown_signoff_cell_edit_is_caught(locked):
    add_addendum(locked, "worker", "Noted.")
    finalize(locked)
    nb = load_json(locked)
    cell = next(c for c in nb["cells"] if c.get("metadata", {}).get(META, {}).get("signoff_cell"))
    cell["source"] = source(cell).replace("Noted", "Not noted")
    locked.write_text(json.dumps(nb))
    assert any("sign-off / addenda text" in p for p in verify(locked).problems)


def test_history_lists_changes_signatures_and_addenda(locked):
    add_addendum(locked, "worker", "One more thing " + "x" * 100)
    rows = history(locked)
    assert [r["type"] for r in rows] == ["answer"] * 5 + ["sign", "sign", "addendum"]
    assert rows[0]["id"] == "story" and "⏎" in rows[0]["summary"]
    assert rows[5]["role"] == "worker" and "W. Test" in rows[5]["summary"]
    assert len(rows[-1]["summary"]) <= 60
    code, out, err = run_cli("history", locked)
    assert code == 0 and len(out.splitlines()) == 8 and "addendum" in out


def test_cli_sign_verify_addendum(filled):
    code, out, err = run_cli("sign", filled, "--role", "supervisor", "--name", "S. Test")
    assert code == 0 and "not locked yet" in out, err
    code, out, err = run_cli("addendum", filled, "--role", "worker", "--text", "x")
    assert code == 1 and "not locked" in err
    code, out, err = run_cli("sign", filled, "--role", "worker", "--name", "W. Test")
    assert code == 0 and "locked" in out
    code, out, err = run_cli("verify", filled)
    assert code == 0, err
    assert "worker: signed by W. Test" in out and "verification: OK" in out
    code, out, err = run_cli("addendum", filled, "--role", "worker", "--text", "-",
                             input="From stdin.\n")
    assert code == 0, err
    assert history(filled)[-1]["summary"] == "From stdin."


def test_sign_panel_buttons_sign_and_lock(filled):
    pytest.importorskip("ipywidgets")
    import ipywidgets as W

    from supervision_kit.kernel.form import Workbook
    from supervision_kit.kernel.panels import signoff_panel

    wb = Workbook(filled)
    try:
        wb.ask("story")
        wb._changed("story", "Typed just before signing.")  # still pending in the writer
        panel = signoff_panel(wb)
        buttons = [w for row in panel.children if isinstance(row, W.HBox)
                   for w in row.children if isinstance(w, W.Button)]
        assert [b.description for b in buttons] == ["Sign as worker", "Sign as supervisor"]
        buttons[0].click()
        ev = open_record(filled).state.signed["worker"]
        assert ev["name"] == "W. Test"  # prefilled from the workbook
        assert read_answers(filled)["answers"]["story"] == "Typed just before signing."
        buttons[1].click()
        assert open_record(filled).locked and wb.locked
        assert all(b.disabled for b in buttons)
        assert wb.fields["story"].widget.disabled
        assert verify(filled).ok
    finally:
        wb.close()
