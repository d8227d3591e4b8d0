"""Adversarial regression tests: one (or a few) per attack in the security review.

Each test plays an attacker who has the package's own functions and plain file access (no
secret keys) and asserts the SAFE outcome: a clear refusal or detection, nothing changed, exit
code 2 for bad input and 1 for other failures, a one-line message on stderr, never a
traceback.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from supervision_kit.core import journal as jr
from supervision_kit.core.errors import KitError, LockedError
from supervision_kit.core.state import answers_digest
from supervision_kit.core.store import journal_path
from supervision_kit.core.workbook import ANSWER_MIME, META, open_record, read_answers
from supervision_kit.record import fill, finalize
from supervision_kit.signoff import add_addendum, sign, verify
from tests.helpers import FIXTURE_TEMPLATES, answer_cell, load_json, mirror_of, set_mirror, source

pytestmark = pytest.mark.timeout(120)

ATTACK_TEMPLATES = Path(__file__).parent / "fixtures" / "attacks" / "templates"
ANSWERS = {"story": "We met in the office.\nIt went well.", "mood": 4, "pick": "Yes",
           "many": ["Red"], "rows": [{"who": "Worker", "said": "Hello", "level": 1, "due": None}]}

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
JS_LINK = "[click](javascript:alert(1))"
MATH = "$5_$6$"
ANSI = "\x1b[2J\x1b]0;owned\x07"
FAKE_OK = "\nverification: OK"
HOSTILE = f"{IMG} {SCRIPT} {JS_LINK} {MATH} {ANSI} \x7f \x85 \u2028 \u202e end"
# characters that must never reach a terminal raw
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e"
                    "\u2066-\u2069\u061c]")


# ---------------------------------------------------------------- helpers


@pytest.fixture(autouse=True, scope="module")
def _nbconvert_templates():
    """nbconvert looks for its HTML templates under sys.prefix; in a venv made with
    --system-site-packages they live under the base interpreter's prefix. Point JUPYTER_PATH
    there too (also for CLI subprocesses) so `export` works in such a venv."""
    import jupyter_core.paths

    base = Path(sys.base_prefix) / "share" / "jupyter"
    have = any((Path(p) / "nbconvert" / "templates" / "lab").is_dir()
               for p in jupyter_core.paths.jupyter_path())
    old = os.environ.get("JUPYTER_PATH")
    if not have and (base / "nbconvert" / "templates" / "lab").is_dir():
        os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(base), old]))
    yield
    if old is None:
        os.environ.pop("JUPYTER_PATH", None)
    else:
        os.environ["JUPYTER_PATH"] = old


@pytest.fixture
def no_binder(monkeypatch):
    from supervision_kit.workshop import public

    for k in (*public.BINDER_ENV, public.ENV_PUBLIC):
        monkeypatch.delenv(k, raising=False)


def attacker_append(path, events):
    """Append events with the journal layer directly, bypassing the lock rule in ``append``
    (what anyone with write access to the file can do)."""
    fd = jr.open_for_append(journal_path(path))
    try:
        return jr.write_events(fd, events)
    finally:
        os.close(fd)


def cli(*args, timeout=20, env=None, input=None):
    """The real CLI in a subprocess with a hard timeout: (exit code, stdout, stderr, seconds).
    A hang fails the test instead of blocking it."""
    start = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "supervision_kit", *map(str, args)],
                              capture_output=True, text=True, timeout=timeout, input=input,
                              env={**os.environ, **(env or {})}, stdin=None if input else
                              subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"supervision-kit {' '.join(map(str, args))} hung for {timeout} s")
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start


def one_line_error(err):
    """stderr is exactly one 'supervision-kit: error: ...' line, no traceback."""
    assert "Traceback" not in err, err
    assert err.count("\n") == 1 and err.startswith("supervision-kit: error: "), err
    assert "(rerun with --debug)" not in err, f"an unexpected exception, not a clear error: {err}"


def _resign_after_cutting_signatures(path):
    """Attack 2: cut the two signature lines off the journal, then ``sign`` again under the
    same names from the CLI; (exit code, stderr) of each sign."""
    jp = journal_path(path)
    lines = jp.read_bytes().splitlines(keepends=True)
    assert all(b'"type":"sign"' in line for line in lines[-2:])
    jp.write_bytes(b"".join(lines[:-2]))
    results = []
    for role, name in (("worker", "W. Test"), ("supervisor", "S. Test")):
        code, _out, err, _ = cli("sign", path, "--role", role, "--name", name)
        results.append((code, err))
    return results


def write_json(path, data):
    Path(path).write_text(json.dumps(data), encoding="utf-8")


class LiveMarkup(HTMLParser):
    """Collects markup that would run or navigate: event-handler attributes, javascript: URLs,
    <img>/<iframe>/<object>/<embed> elements, and <script> elements holding a payload."""

    def __init__(self):
        super().__init__()
        self.found = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k.startswith("on") or (v or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {k}={v!r}>")
        if tag in ("img", "iframe", "object", "embed"):
            self.found.append(f"<{tag} {attrs}>")
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and "alert(" in data:
            self.found.append(f"<script>{data[:60]}")


def live_markup(html_text):
    p = LiveMarkup()
    p.feed(html_text)
    return p.found


def markdown_live_markup(md):
    """Render markdown as JupyterLab/nbconvert would (mistune) and look for live markup."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return live_markup(markdown2html_mistune(md))


# ================================================================ signed records


class TestSignedRecords:
    @pytest.mark.parametrize("recompute", [False, True], ids=["copied", "recomputed"])
    def test_01_finalized_record_gets_a_change_and_copied_signatures(self, locked, tmp_path,
                                                                      recompute):
        """Attack 1: after finalize, append a changed answer and copies of both signatures
        with the journal layer (no lock rule). With ``recompute`` the copies even carry the
        correct SHA-256 of the changed answers (no key is needed to compute it)."""
        from supervision_kit.export.html import export

        finalize(locked)
        sigs = [e for e in jr.read_journal(journal_path(locked)).events if e["type"] == "sign"]
        forged = [{k: v for k, v in s.items() if k not in ("seq", "prev", "h", "t")}
                  for s in sigs]
        if recompute:
            changed = dict(read_answers(locked)["answers"], story="We never met.")
            total, per_prompt = answers_digest(changed)
            for s in forged:
                s.update(answers_sha256=total, prompts=per_prompt)
        attacker_append(locked, [{"id": "story", "v": "We never met.", "by": "worker",
                                  "src": "fill"}, *forged])
        code, out, err, _ = cli("verify", locked)
        assert code == 1, out
        assert "verification: FAILED" in out and "CHANGED:" in out
        one_line_error(err)
        assert read_answers(locked)["answers"]["story"] == ANSWERS["story"]
        page = export(locked, out=tmp_path / "record.html").read_text()
        assert "Verification FAILED" in page
        assert "We never met" not in page

    def test_02_resign_after_deleting_signatures_of_a_finalized_record(self, locked):
        """Attack 2 (finalized): cut the two signature lines off the journal and sign again
        under the same names. The .ipynb holds the journal head and signatures finalize
        embedded, so verify must fail."""
        finalize(locked)
        for _code, err in _resign_after_cutting_signatures(locked):
            assert "Traceback" not in err  # refused (still locked) or accepted: verify decides
        code, out, err, _ = cli("verify", locked)
        assert code == 1, out
        assert "journal" in out and "verification: FAILED" in out
        one_line_error(err)
        assert open_record(locked).locked  # the lock still holds

    def test_02_resign_after_deleting_signatures_of_an_unfinalized_record(self, locked):
        """Attack 2 (not finalized). Without keys this cannot be detected from the files: the
        re-made signatures are valid SHA-256 over the same answers and the chain is rebuilt
        by the normal writer. What changes is the fingerprint (hash of the last event, which
        covers each signature's time), so a fingerprint noted elsewhere (docs: "Limits")
        exposes the rewrite. Assert exactly that."""
        before = verify(locked)
        assert before.ok and before.fingerprint
        for code, err in _resign_after_cutting_signatures(locked):
            assert code == 0, err
        after = verify(locked)
        assert after.fingerprint and after.fingerprint != before.fingerprint
        code, out, _err, _ = cli("verify", locked)
        assert f"fingerprint: {after.fingerprint[:16]}" in out
        assert f"fingerprint: {before.fingerprint[:16]}" not in out

    def test_03_stripped_final_newline_keeps_the_lock(self, locked, tmp_path):
        """Attack 3: remove the journal's single final newline (the last line is the locking
        signature). The signature must not be dropped: the record stays locked and verify
        says something (a note or a problem)."""
        jp = journal_path(locked)
        raw = jp.read_bytes()
        assert raw.endswith(b"\n") and raw.count(b"\n") == len(raw.splitlines())
        jp.write_bytes(raw[:-1])
        answers = tmp_path / "a.json"
        write_json(answers, {"story": "A late change."})
        code, _out, err, _ = cli("fill", locked, "--responses", answers)
        assert code == 1 and "locked" in err, err
        one_line_error(err)
        assert jp.read_bytes() == raw[:-1]
        rep = verify(locked)
        assert rep.locked and set(rep.signatures) == {"worker", "supervisor"}
        assert not rep.ok or any("newline" in n for n in rep.notes), (rep.problems, rep.notes)
        code, out, err, _ = cli("verify", locked)
        assert "locked: yes" in out and ("newline" in out or code == 1)

    def test_03_torn_signature_line_is_reported(self, locked, tmp_path):
        """Attack 3, variant: cut the last two bytes, so the locking signature is an incomplete
        line. Verify must report it, also after a later write 'repaired' the tail."""
        jp = journal_path(locked)
        jp.write_bytes(jp.read_bytes()[:-2])
        assert not verify(locked).ok
        answers = tmp_path / "a.json"
        write_json(answers, {"story": "Changed after the signature was torn."})
        cli("fill", locked, "--responses", answers)  # accepted or refused: verify must fail
        code, out, _err, _ = cli("verify", locked)
        assert code == 1 and "verification: FAILED" in out

    @pytest.mark.parametrize("finalized", [False, True], ids=["live", "finalized"])
    def test_04_mirror_edited_with_an_older_timestamp(self, filled, finalized):
        """Attack 4: the answer shown in the .ipynb (ANSWER_MIME output, with consistent
        markdown and text) is replaced by a new value with a timestamp OLDER than the
        journal's, so the read rule keeps the journal's value but the file shows the edit."""
        from supervision_kit.core.mirror import answer_output

        sign(filled, "worker", "W. Test")
        sign(filled, "supervisor", "S. Test")
        if finalized:
            finalize(filled)
        nb = load_json(filled)
        prompt = open_record(filled).prompts["story"]
        set_mirror(nb, "story", answer_output(prompt, "We never met.",
                                              "2000-01-01T00:00:00.000000Z"))
        write_json(filled, nb)
        assert read_answers(filled)["answers"]["story"] == ANSWERS["story"]
        rep = verify(filled)
        assert not rep.ok and any("'story'" in p for p in rep.problems), rep.problems
        code, out, err, _ = cli("verify", filled)
        assert code == 1 and "CHANGED: answer to 'story'" in out
        one_line_error(err)

    def test_04_finalized_mirror_replays_an_earlier_draft(self, filled):
        """Attack 4, variant: the 'older timestamp' is the exact time of an earlier draft in
        the journal, with that draft's value. After finalize every mirror must show the
        signed answer, so the finalized file showing the draft must fail verification.
        (In a live, never-finalized notebook a stale mirror is legitimate: it may have been
        saved before the last keystrokes were written.)"""
        from supervision_kit.core.mirror import answer_output

        draft_t = jr.read_journal(journal_path(filled)).answers()["story"]["t"]
        fill(filled, {"story": "The final, agreed text."})
        sign(filled, "worker", "W. Test")
        sign(filled, "supervisor", "S. Test")
        finalize(filled)
        nb = load_json(filled)
        prompt = open_record(filled).prompts["story"]
        set_mirror(nb, "story", answer_output(prompt, ANSWERS["story"], draft_t))
        write_json(filled, nb)
        rep = verify(filled)
        assert not rep.ok and any("'story'" in p for p in rep.problems), rep.problems

    def test_05_new_refuses_to_adopt_a_signed_journal(self, locked, store):
        """Attack 5: delete the signed workbook and make a new one for the same case and
        date: the old (signed, locked) journal must not be adopted."""
        jp = journal_path(locked)
        before = jp.read_bytes()
        locked.unlink()
        code, out, err, _ = cli("new", "--case", "case-01", "--date", "2026-03-02",
                                "--template", "kinds", "--templates", FIXTURE_TEMPLATES,
                                "--store", store, "--worker", "W. Test", "--supervisor",
                                "S. Test")
        assert code == 1, out
        assert "journal of an earlier workbook" in err
        one_line_error(err)
        assert not locked.exists()  # nothing born (locked or not)
        assert jp.read_bytes() == before
        assert not list(locked.parent.glob("*.ipynb"))

    def test_06_upload_resume_cannot_write_into_a_locked_record(self, tmp_path, monkeypatch,
                                                                 no_binder):
        """Attack 6: a kernel opened the workshop workbook before it was signed; a downloaded
        copy with other answers is uploaded after both signed. Nothing may be restored."""
        from supervision_kit import workshop as ws
        from supervision_kit.kernel import open_workbook, panels
        from supervision_kit.signoff import missing_required

        out = tmp_path / "ws"
        ws.generate("saturday-football", out, participants=2, date="2026-03-02")
        path = out / "P01-workshop.ipynb"
        monkeypatch.chdir(out)
        wb = open_workbook(path.name, show=False)
        try:
            wb._changed("ws_stood_out", "A draft typed in the kernel.")
            name, data = panels.download(wb)
            fill(path, {"ws_stood_out": "The agreed text.", "ws_confidence": 3})
            fill(path, {pid: "Evidence." for pid, _l in missing_required(open_record(path))})
            sign(path, "worker", "W. Test")
            sign(path, "supervisor", "S. Test")
            before = journal_path(path).read_bytes()
            with pytest.raises(KitError, match="locked"):
                panels.restore(wb, data, name)
            assert journal_path(path).read_bytes() == before
        finally:
            wb.close()
        assert journal_path(path).read_bytes() == before
        assert read_answers(path)["answers"]["ws_stood_out"] == "The agreed text."
        assert verify(path).ok

    def test_07_answer_appended_after_the_lock_is_reported(self, locked):
        """Attack 7: append an answer event after both signatures (journal layer, no
        finalize). The read rule ignores it; verify reports an event after the lock."""
        attacker_append(locked, [{"id": "mood", "v": 1, "by": "worker", "src": "fill"}])
        assert read_answers(locked)["answers"]["mood"] == 4
        rep = verify(locked)
        assert any("'mood'" in p and "after the record was locked" in p
                   for p in rep.problems), rep.problems
        code, out, err, _ = cli("verify", locked)
        assert code == 1 and "after the record was locked" in out
        one_line_error(err)

    def test_08_sign_refused_when_incomplete_and_twice_after_lock(self, store):
        """Attack 8: sign with required answers missing; sign again after the lock."""
        from supervision_kit.generate.render import new_workbook

        path = new_workbook(case_id="case-08", date="2026-03-02", template="required",
                            templates=str(ATTACK_TEMPLATES), store=store, worker="W. Test",
                            supervisor="S. Test")
        fill(path, {"note": "Only the optional answer."})
        jp = journal_path(path)
        before = jp.read_bytes()
        code, _out, err, _ = cli("sign", path, "--role", "worker", "--name", "W. Test")
        assert code == 2 and "required" in err and "story" in err and "mood" in err, err
        one_line_error(err)
        assert jp.read_bytes() == before
        fill(path, {"story": "It happened.", "mood": 5})
        for role, name in (("worker", "W. Test"), ("supervisor", "S. Test")):
            code, _out, err, _ = cli("sign", path, "--role", role, "--name", name)
            assert code == 0, err
        before = jp.read_bytes()
        for role, name in (("worker", "W. Test"), ("worker", "Someone Else")):
            code, _out, err, _ = cli("sign", path, "--role", role, "--name", name)
            assert code == 1 and "locked" in err, err
            one_line_error(err)
        with pytest.raises(LockedError):
            sign(path, "supervisor", "S. Test")
        assert jp.read_bytes() == before
        assert verify(path).ok


# ================================================================ hostile text


def _carry_store(make_workbook):
    first = make_workbook(case="C-1", date="2026-03-02")
    fill(first, {"goals": [{"goal": HOSTILE, "measure": HOSTILE, "expected": HOSTILE,
                            "target_date": "2026-04-01", "attainment": 0}],
                 "actions": [{"action": HOSTILE, "owner": "Worker", "due": "2026-03-10"}]})
    return first


def _tags(page):
    """(tag, attrs) of every element in an HTML string."""
    from html.parser import HTMLParser

    found = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, dict(attrs)))

    P().feed(page)
    return found


class TestHostileText:
    def test_09_carried_goal_and_action_text_is_escaped(self, make_workbook):
        """Attack 9: hostile goal/action text carried into the next session's workbook."""
        from supervision_kit.core.mirror import answer_output

        _carry_store(make_workbook)
        second = make_workbook(case="C-1", date="2026-03-16")
        nb = load_json(second)
        carried = {pid: p for pid, p in open_record(second).prompts.items() if p.get("carried")}
        assert len(carried) == 2  # one goal to score, one action to review
        md = [source(c) for c in nb["cells"] if c["cell_type"] == "markdown"]
        md += ["".join(v) if isinstance(v, list) else str(v)  # questions shown as outputs
               for c in nb["cells"] if c["cell_type"] == "code"
               for o in c.get("outputs", []) for k, v in o.get("data", {}).items()
               if k == "text/markdown"]
        pages = ["".join(v) if isinstance(v, list) else str(v)
                 for c in nb["cells"] if c["cell_type"] == "code"
                 for o in c.get("outputs", []) for k, v in o.get("data", {}).items()
                 if k == "text/html"]
        for page in pages:  # HTML outputs: the payload is text, never an element
            tags = _tags(page)
            assert not [t for t, a in tags if t in ("img", "script", "svg", "iframe")], page
            assert not [a for _t, a in tags if any(k.startswith("on") for k in a)], page
        shown = [m for m in md if "alert" in m]
        assert len(shown) >= 2  # the carried items are shown...
        for m in md:  # ...and nothing in any markdown cell is live markup
            assert markdown_live_markup(m) == [], m
            assert "<img" not in m and "<script" not in m.lower() and "](javascript:" not in m
        for pid, p in carried.items():
            value = p["options"][0] if p["kind"] == "choice" else 0
            out = answer_output(p, value)["data"]["text/markdown"]
            assert markdown_live_markup(out) == [], (pid, out)
            assert "<img" not in out and "<script" not in out.lower()
        goals = open_record(second).prompts["goals"]
        out = answer_output(goals, [{"goal": HOSTILE, "expected": HOSTILE}])["data"]
        assert markdown_live_markup(out["text/markdown"]) == []

    def test_09_earlier_record_metadata_is_escaped_when_carried(self, make_workbook):
        """Attack 9, variant: the earlier workbook's metadata (its session date, shown as
        'Items agreed on <date>') is as untrusted as its answers."""
        first = _carry_store(make_workbook)
        nb = load_json(first)
        nb["metadata"][META]["workbook"]["session_date"] = f"2026-01-01 {IMG}"
        write_json(first, nb)
        second = make_workbook(case="C-1", date="2026-03-16")
        md = [source(c) for c in load_json(second)["cells"] if c["cell_type"] == "markdown"]
        assert any("Items agreed on" in m for m in md)
        for m in md:
            assert markdown_live_markup(m) == [], m

    def test_10_history_and_verify_print_no_control_characters(self, filled, tmp_path):
        """Attack 10: answers, an addendum, signer names and roles holding ESC/BEL/C1/DEL/
        line-separator/bidi characters (the addendum and names written with the journal
        layer, as the API refuses them) never reach the terminal raw."""
        fill(filled, {"story": HOSTILE, "headline": "\x1b]8;;http://x\x07link\x1b]8;;\x07"})
        sign(filled, "worker", "W. Test")
        sign(filled, "supervisor", "S. Test")
        attacker_append(filled, [
            {"type": "addendum", "role": "worker\x1b[31m", "by": "worker\x9b2J",
             "name": "N\u202eX", "text": "Note " + ANSI + " \x85 \u2028 \u202e"},
        ])
        for cmd in ("history", "verify"):
            code, out, err, _ = cli(cmd, filled)
            assert code in (0, 1), err
            assert not UNSAFE.findall(out + err), (cmd, UNSAFE.findall(out + err))
        for bad in ("W\x1b[2JX", "W\x07X", "W\x85X", "W\u202eX"):
            code, _out, err, _ = cli("sign", filled, "--role", "worker", "--name", bad)
            assert code == 2 and not UNSAFE.findall(err), err
            code, _out, err, _ = cli("new", "--case", "c-10", "--template", "kinds",
                                     "--templates", FIXTURE_TEMPLATES, "--store",
                                     tmp_path / "s", "--worker", bad, "--supervisor", "S")
            assert code == 2 and not UNSAFE.findall(err), err

    def test_10_history_cannot_be_given_forged_lines(self, locked):
        """Attack 10, variant: newlines in the fields `history` prints (id, role, type, time)
        forge extra lines, e.g. a fake 'verification: OK'. One event must be one line."""
        attacker_append(locked, [
            {"id": "story" + FAKE_OK, "v": "x", "by": "worker"},
            {"type": "answer" + FAKE_OK, "id": "mood", "v": 1, "by": "worker"},
            {"id": "pick", "v": "No", "by": "worker" + FAKE_OK, "t": "2026" + FAKE_OK},
        ])
        events = len(jr.read_journal(journal_path(locked)).events)
        code, out, err, _ = cli("history", locked)
        assert code == 0, err
        assert len(out.splitlines()) == events, out
        assert not any(line.startswith("verification") for line in out.splitlines()), out

    def test_11_csv_outputs_neutralise_formulas(self, make_workbook, store, tmp_path,
                                                no_binder):
        """Attack 11: answers that a spreadsheet would run as formulas, in every CSV."""
        from supervision_kit import workshop as ws

        formulas = {"story": '=HYPERLINK("http://evil.example","click")', "headline": "+cmd",
                    "detail": "-cmd|' /C calc'!A0"}
        more = {"story": "@SUM(1+1)*cmd|' /C calc'!A0", "headline": "\t=1+1"}
        a = make_workbook(case="case-a", template="kinds", templates=str(FIXTURE_TEMPLATES))
        b = make_workbook(case="case-b", template="kinds", templates=str(FIXTURE_TEMPLATES))
        fill(a, {**formulas, "pick": "Yes"})
        fill(b, more)
        raw_values = set(formulas.values()) | set(more.values())

        def values(out, column):
            rows = list(csv.reader(io.StringIO(out)))
            i = rows[0].index(column)
            return [r[i] for r in rows[1:]]

        def check(got, raw):
            hostile = [v for v in got if v.lstrip("'") in raw_values]
            assert len(hostile) >= 2, got
            for v in hostile:
                if raw:
                    assert v in raw_values, v
                else:
                    assert v.startswith("'") and v[1:] in raw_values, v

        for raw in (False, True):
            flag = ["--raw-csv"] if raw else []
            got = []
            for nb in (a, b):
                code, out, err, _ = cli("responses", nb, "--format", "csv", *flag)
                assert code == 0, err
                got += values(out, "value")
            check(got, raw)
            code, out, err, _ = cli("table", "--store", store, "--format", "csv", *flag)
            assert code == 0, err
            check(values(out, "value"), raw)

        out_dir = tmp_path / "ws"
        ws.generate("saturday-football", out_dir, participants=2, date="2026-03-02")
        fill(out_dir / "P01-workshop.ipynb", {"ws_stood_out": formulas["story"]})
        fill(out_dir / "P02-workshop.ipynb", {"ws_stood_out": more["story"]})
        for raw in (False, True):
            code, out, err, _ = cli("workshop", "collect", out_dir,
                                    *(["--raw-csv"] if raw else []))
            assert code == 0, err
            check(values(out, "value"), raw)

    def test_11_negative_numbers_stay_numbers(self, kinds_workbook):
        """csv_cell leaves numbers alone, but the CLI's CSV writer JSON-encodes them first, so a
        GAS score of -2 (or any negative number) reaches the spreadsheet as the text '-2."""
        fill(kinds_workbook, {"score": -3, "rows": [{"level": -2}]})
        code, out, err, _ = cli("responses", kinds_workbook, "--format", "csv")
        assert code == 0, err
        rows = dict(csv.reader(io.StringIO(out)))
        assert rows["score"] == "-3"


# ---------------------------------------------------------------- progress (attacks 12, 26)


WORKER = "Wanda Workerton"
SUPERVISOR = "Sam Supervisorson"


@pytest.fixture(scope="module")
def progress_run(tmp_path_factory):
    """A case with two sessions whose outcome measure and goal text hold mathtext, made into
    an executed progress notebook by the real CLI (once for attacks 12 and 26)."""
    from supervision_kit.generate.render import new_workbook

    store = tmp_path_factory.mktemp("progress") / "store"
    for date, score in (("2026-03-02", 10), ("2026-03-16", 14)):
        p = new_workbook(case_id="C-12", date=date, template="session", store=store,
                         worker=WORKER, supervisor=SUPERVISOR)
        fill(p, {"outcome_measure": f"{MATH} measure \x1b[2J", "outcome_score": score,
                 "session_rating": 7, "duration_minutes": 90,
                 "goals": [{"goal": f"{MATH} goal {IMG}", "expected": "$x$",
                            "target_date": "2026-04-01", "attainment": 0}]})
    code, out, err, _ = cli("progress", "--case", "C-12", "--store", store, timeout=240)
    return code, out, err


class TestProgress:
    def test_12_mathtext_in_measure_and_goal_does_not_crash_progress(self, progress_run):
        """Attack 12: '$5_$6$' (matplotlib mathtext) in an outcome-measure name and a goal."""
        from supervision_kit.progress.report import summary

        code, out, err = progress_run
        assert code == 0, err
        path = Path(out.strip().splitlines()[-1])
        got = summary(path)
        assert got["errors"] == 0 and got["images"] >= 5, got

    def test_26_progress_notebook_outputs_hold_no_names(self, progress_run):
        """Attack 26: the executed progress notebook must not carry the worker's or the
        supervisor's name in any cell output or in the saved widget state."""
        from supervision_kit.privacy.scan import parameter_leaks

        code, out, err = progress_run
        assert code == 0, err
        nb = load_json(out.strip().splitlines()[-1])
        assert nb["metadata"][META]["workbook"]["worker"] == WORKER  # metadata only, by design
        leaks = parameter_leaks(nb)
        found = []
        for i, cell in enumerate(nb["cells"]):
            for o in cell.get("outputs", []) or []:
                data = o.get("data", {})
                texts = [json.dumps(data.get(m, "")) for m in ("text/plain", "text/html",
                                                               "text/markdown")]
                texts.append(json.dumps(o.get("text", "")))
                if any(n in t for t in texts for n in (WORKER, SUPERVISOR)):
                    found.append(f"cell {i + 1} output")
        state = json.dumps(nb["metadata"].get("widgets", {}))
        if WORKER in state or SUPERVISOR in state:
            found.append("metadata.widgets")
        assert leaks == [] and found == [], (leaks, found)


class TestHostileNames:
    @pytest.mark.parametrize("char", ["\x7f", "\x85", "\x9b", "\u2028", "\u202e"],
                             ids=["DEL", "NEL", "CSI", "LS", "RLO"])
    def test_13_names_with_control_or_direction_characters_are_refused(self, filled, store,
                                                                        char):
        """Attack 13: names with DEL, C1 controls, U+2028 or U+202E."""
        bad = f"Ann{char}Smith"
        for flag in ("--worker", "--supervisor"):
            names = {"--worker": "W. Test", "--supervisor": "S. Test", flag: bad}
            code, _out, err, _ = cli("new", "--case", "c-13", "--template", "kinds",
                                     "--templates", FIXTURE_TEMPLATES, "--store", store,
                                     "--date", "2026-03-02", *[x for kv in names.items()
                                                               for x in kv])
            assert code == 2, err
            one_line_error(err)
            assert not (store / "c-13").exists()
        before = journal_path(filled).read_bytes()
        code, _out, err, _ = cli("sign", filled, "--role", "worker", "--name", bad)
        assert code == 2, err
        one_line_error(err)
        assert journal_path(filled).read_bytes() == before

    def test_14_header_fields_are_escaped_in_the_export(self, store, tmp_path):
        """Attack 14: a worker named like an <img onerror> tag, a supervisor named like a
        script, and a signer named like markup: the export shows them as text."""
        from supervision_kit.export.html import export
        from supervision_kit.generate.render import new_workbook

        path = new_workbook(case_id="case-14", date="2026-03-02", template="kinds",
                            templates=str(FIXTURE_TEMPLATES), store=store, worker=IMG,
                            supervisor=SCRIPT, focus=JS_LINK)
        fill(path, {"story": HOSTILE, "mood": 3})
        sign(path, "worker", IMG.replace("1", "2"))
        sign(path, "supervisor", SCRIPT.replace("1", "3"))
        page = export(path, out=tmp_path / "record.html").read_text()
        assert live_markup(page) == []
        assert "&lt;img src=x onerror=alert(1)&gt;" in page  # shown, as text
        for cell in load_json(path)["cells"]:  # the workbook's own header too
            if cell["cell_type"] == "markdown":
                assert markdown_live_markup(source(cell)) == []


# ================================================================ files


class TestFiles:
    @pytest.mark.parametrize("which", ["journal", "lock"])
    @pytest.mark.parametrize("exists", [True, False], ids=["target-exists", "dangling"])
    def test_15_symlinked_journal_or_lock_is_refused(self, filled, tmp_path, which, exists):
        """Attack 15: the journal (and, as a variant, the lock file) is a symbolic link to a
        file outside the store: `fill` refuses; the target is unchanged or not created."""
        from supervision_kit.core.lock import lock_path

        link = journal_path(filled) if which == "journal" else lock_path(filled)
        target = tmp_path / "outside" / "victim.txt"
        target.parent.mkdir()
        if exists:
            target.write_bytes(b"precious\n")
        if os.path.lexists(link):
            link.unlink()
        link.symlink_to(target)
        answers = tmp_path / "a.json"
        write_json(answers, {"story": "Written through a link?"})
        code, _out, err, _ = cli("fill", filled, "--responses", answers)
        assert code in (1, 2) and "symbolic link" in err, err
        one_line_error(err)
        if exists:
            assert target.read_bytes() == b"precious\n"
        else:
            assert not target.exists()
        assert link.is_symlink()

    @pytest.mark.parametrize("exists", [True, False], ids=["target-exists", "dangling"])
    def test_16_kernel_marker_symlink_is_not_written(self, filled, tmp_path, monkeypatch,
                                                     exists):
        """Attack 16: `.<name>.kernel.json` is a symbolic link to a file outside the store;
        opening the workbook in a kernel must neither truncate nor write (nor create) it."""
        from supervision_kit.core.markers import kernel_marker
        from supervision_kit.kernel import open_workbook

        target = tmp_path / "outside" / "victim.txt"
        target.parent.mkdir()
        if exists:
            target.write_bytes(b"precious\n")
        kernel_marker(filled).symlink_to(target)
        monkeypatch.chdir(filled.parent)
        wb = open_workbook(filled.name, show=False)
        try:
            wb._changed("story", "Typed in the kernel.")
            wb.flush()
        finally:
            wb.close()
        if exists:
            assert target.read_bytes() == b"precious\n"
        else:
            assert not target.exists()
        assert kernel_marker(filled).is_symlink()
        assert read_answers(filled)["answers"]["story"] == "Typed in the kernel."

    def test_17_fifo_workbook_and_journal_never_hang(self, filled, store):
        """Attack 17: a FIFO named *.ipynb in the store, and a FIFO as a workbook's journal.
        Every reader returns promptly with a clear error, or skips the file."""
        fifo = filled.parent / "2026-01-01-fifo.ipynb"
        os.mkfifo(fifo)
        other = filled.parent.parent / "case-02" / "2026-03-02-kinds.ipynb"
        other.parent.mkdir()
        shutil.copyfile(filled, other)
        os.mkfifo(journal_path(other))
        for target in (fifo, other):
            for cmd in ("responses", "verify", "scan"):
                code, _out, err, secs = cli(cmd, target)
                assert code == 2 and target.name.removesuffix(".ipynb") in err, (cmd, err)
                one_line_error(err)
                assert secs < 20
        code, out, err, _ = cli("table", "--store", store)
        assert code == 0 and "skipped" in err and fifo.name in err, err
        assert "Traceback" not in err and filled.name in out
        code, out, err, _ = cli("scan", store)
        assert code in (0, 1) and "skipped" in err and "Traceback" not in err, err

    def test_17_fifo_in_a_workshop_folder_never_hangs(self, tmp_path, no_binder):
        """Attack 17, same FIFO in a workshop folder (downloads are dropped there)."""
        from supervision_kit import workshop as ws

        out = tmp_path / "ws"
        ws.generate("saturday-football", out, participants=1, date="2026-03-02")
        os.mkfifo(out / "upload.ipynb")
        code, _out, err, _ = cli("workshop", "collect", out, timeout=5)
        assert code == 0 and "upload.ipynb" in err, err

    def test_18_oversized_workbook_is_refused_quickly(self, kinds_workbook, tmp_path):
        """Attack 18: a 40 MB workbook (a padded metadata string); the limit is 32 MB."""
        nb = load_json(kinds_workbook)
        nb["metadata"]["padding"] = "x" * (40 * 1024 * 1024)
        write_json(kinds_workbook, nb)
        for args in (["responses"], ["verify"], ["export", "--out", tmp_path / "x.html"]):
            code, _out, err, secs = cli(args[0], kinds_workbook, *args[1:])
            assert code == 2 and "limit" in err and kinds_workbook.name in err, (args, err)
            one_line_error(err)
            assert secs < 10
        assert not (tmp_path / "x.html").exists()


# ================================================================ bad input


def _corrupt(nb):
    """name -> file bytes of a corrupt notebook, derived from a valid workbook ``nb``."""
    text = json.dumps(nb)

    def variant(change):
        v = copy.deepcopy(nb)
        change(v)
        return json.dumps(v).encode()

    def prompts(v):
        return v["metadata"][META]["prompt_set"]["sections"][0]["prompts"]

    def scale(v):
        p = next(p for p in prompts(v) if p["kind"] == "scale")
        p.update(min=1, max=30_000_000)

    return {
        "empty": b"",
        "list": b"[]",
        "object": b"{}",
        "no-cells": variant(lambda v: v.pop("cells")),
        "cells-not-list": variant(lambda v: v.update(cells={"0": v["cells"][0]})),
        "metadata-not-dict": variant(lambda v: v.update(metadata=[v["metadata"]])),
        "no-kit-metadata": variant(lambda v: v["metadata"].pop(META)),
        "empty-prompt-set": variant(
            lambda v: v["metadata"][META]["prompt_set"].update(sections=[])),
        "prompt-without-id": variant(lambda v: prompts(v)[0].pop("id")),
        "duplicate-ids": variant(lambda v: prompts(v).append(dict(prompts(v)[0]))),
        "huge-scale": variant(scale),
        "outputs-not-list": variant(lambda v: answer_cell(v).update(outputs={"a": 1})),
        "cell-is-string": variant(lambda v: v["cells"].insert(1, "a cell")),
        "invalid-utf8": text.replace('"cells"', '"cel\u00e9s"', 1).encode("latin-1", "replace"),
        "truncated": text[: len(text) // 2].encode(),
        "deep-nesting": b"[" * 200_000 + b"]" * 200_000,
    }


CORRUPT_NAMES = ["empty", "list", "object", "no-cells", "cells-not-list", "metadata-not-dict",
                 "no-kit-metadata", "empty-prompt-set", "prompt-without-id", "duplicate-ids",
                 "huge-scale", "outputs-not-list", "cell-is-string", "invalid-utf8", "truncated",
                 "deep-nesting"]


class TestBadInput:
    @pytest.mark.parametrize("name", CORRUPT_NAMES)
    def test_19_corrupt_notebooks_are_refused_and_left_alone(self, kinds_workbook, name):
        """Attack 19: each corrupt notebook: responses, verify and finalize exit 2 with one
        line naming the file; finalize leaves it byte-identical."""
        data = _corrupt(load_json(kinds_workbook))[name]
        path = kinds_workbook.with_name(f"corrupt-{name}.ipynb")
        path.write_bytes(data)
        for cmd in ("responses", "verify", "finalize"):
            code, _out, err, secs = cli(cmd, path)
            assert code == 2, (cmd, err)
            one_line_error(err)
            assert path.name in err, (cmd, err)
            assert secs < 15
        assert path.read_bytes() == data
        assert not journal_path(path).exists()

    def test_20_nested_journal_line_readers(self, filled, tmp_path):
        """Attack 20: a journal line of 100k '[': every reader still works and reports the
        line as unreadable (never a RecursionError)."""
        with open(journal_path(filled), "ab") as fh:
            fh.write(b"[" * 100_000 + b"\n")
        for args, codes in ((["responses", filled], {0}), (["history", filled], {0}),
                            (["table", "--store", filled.parent.parent], {0}),
                            (["scan", filled], {0, 1}),
                            (["export", filled, "--out", tmp_path / "x.html"], {0}),
                            (["finalize", filled], {0})):
            code, _out, err, _ = cli(*args)
            assert code in codes and "Recursion" not in err, (args, err)
        code, out, err, _ = cli("verify", filled)
        assert code == 1 and "unreadable journal line" in out and "Recursion" not in err

    def test_20_nested_journal_line_writers(self, filled, tmp_path):
        """Attack 20, writers: fill, sign and addendum after the nested line."""
        with open(journal_path(filled), "ab") as fh:
            fh.write(b"[" * 100_000 + b"\n")
        answers = tmp_path / "a.json"
        write_json(answers, {"story": "Still saved."})
        for args in (["fill", filled, "--responses", answers],
                     ["sign", filled, "--role", "worker", "--name", "W. Test"],
                     ["sign", filled, "--role", "supervisor", "--name", "S. Test"],
                     ["addendum", filled, "--role", "worker", "--text", "Still added."]):
            code, _out, err, _ = cli(*args)
            assert code == 0 and "Recursion" not in err, (args, err)
        assert read_answers(filled)["answers"]["story"] == "Still saved."

    def test_21_history_with_non_string_fields(self, filled):
        """Attack 21: journal events (written with the journal layer) whose id, role, type,
        time or name are numbers, lists or objects."""
        attacker_append(filled, [
            {"id": 5, "by": ["x"], "v": "a"},
            {"id": None, "by": {"role": 1}, "v": [1, {"a": None}]},
            {"id": ["story"], "type": ["sign"], "role": 7, "v": "b"},
            {"type": "sign", "role": ["worker"], "name": {"n": 1}, "answers_sha256": 5},
            {"type": "addendum", "role": None, "text": ["t"], "t": {"when": 1}},
            {"id": "story", "v": "c", "t": 12345},
        ])
        n = len(jr.read_journal(journal_path(filled)).events)
        code, out, err, _ = cli("history", filled)
        assert code == 0, err
        assert len(out.splitlines()) == n
        for cmd in ("verify", "responses"):
            code, out, err, _ = cli(cmd, filled)
            assert code in (0, 1) and "Traceback" not in err and "rerun with" not in err, err

    def test_21_sign_events_with_list_digests(self, filled):
        """Attack 21, variant: both signatures carry a list as ``answers_sha256``. Reading the
        record must not crash (the replay puts the digests in a set)."""
        attacker_append(filled, [
            {"type": "sign", "role": "worker", "name": "W", "answers_sha256": ["x"]},
            {"type": "sign", "role": "supervisor", "name": "S", "answers_sha256": ["x"]},
        ])
        for cmd in ("history", "responses", "verify"):
            code, _out, err, _ = cli(cmd, filled)
            assert code in (0, 1) and "rerun with" not in err, (cmd, err)

    def test_22_yaml_bomb_and_duplicate_keys_in_templates(self, tmp_path, store):
        """Attack 22: a "billion laughs" prompt set, and one with duplicate keys."""
        bomb = tmp_path / "bomb"
        (bomb / "prompts").mkdir(parents=True)
        shutil.copyfile(FIXTURE_TEMPLATES / "kinds.ipynb", bomb / "bomb.ipynb")
        lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
        for i in range(1, 10):
            lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
        lines += ["name: bomb", "title: Bomb", 'version: "1"',
                  "sections: [{id: s, title: S, prompts: [{id: p, kind: short_text, "
                  "label: *a9}]}]"]
        (bomb / "prompts" / "bomb.yaml").write_text("\n".join(lines) + "\n")
        code, _out, err, secs = cli("templates", "check", bomb)
        assert code == 2 and secs < 10, err
        assert "bomb.yaml" in err and ("alias" in err or "expands" in err), err
        one_line_error(err)
        code, _out, err, secs = cli("new", "--case", "c-22", "--template", "bomb",
                                    "--templates", bomb, "--store", store, "--worker", "W",
                                    "--supervisor", "S")
        assert code == 2 and secs < 10, err
        one_line_error(err)

        dup = tmp_path / "dup"
        (dup / "prompts").mkdir(parents=True)
        shutil.copyfile(FIXTURE_TEMPLATES / "kinds.ipynb", dup / "dup.ipynb")
        text = (FIXTURE_TEMPLATES / "prompts" / "kinds.yaml").read_text()
        text = text.replace("name: kinds", "name: dup").replace(
            'title: Every prompt kind', 'title: Every prompt kind\ntitle: "A second title"')
        (dup / "prompts" / "dup.yaml").write_text(text)
        code, _out, err, _ = cli("templates", "check", dup)
        assert code == 2 and "duplicate key" in err and "title" in err, err
        one_line_error(err)

    @staticmethod
    def _workshop_with_download(tmp_path):
        from supervision_kit import workshop as ws
        from supervision_kit.core.notebook import notebook_text
        from supervision_kit.workshop.resume import download_copy

        out = tmp_path / "ws"
        ws.generate("saturday-football", out, participants=3, date="2026-03-02")
        for i in (1, 2, 3):
            fill(out / f"P0{i}-workshop.ipynb", {"ws_stood_out": f"Text {i}.",
                                                 "ws_confidence": i})
        _name, nb = download_copy(out / "P01-workshop.ipynb")
        nb = json.loads(notebook_text(nb))
        (out / "downloads").mkdir()
        return out, nb

    @staticmethod
    def _prompt(nb, pid):
        return next(p for s in nb["metadata"][META]["prompt_set"]["sections"]
                    for p in s["prompts"] if p["id"] == pid)

    @staticmethod
    def _set_answer(nb, pid, value):
        mirror_of(nb, pid)["data"][ANSWER_MIME]["value"] = value

    def test_23_crafted_downloads_with_malformed_prompts_are_skipped(self, tmp_path,
                                                                      no_binder):
        """Attack 23: a "downloaded workbook" whose prompt metadata is malformed or has a
        1..30,000,000 scale: collect and summary skip it with a reason, quickly."""
        out, nb = self._workshop_with_download(tmp_path)
        wide = copy.deepcopy(nb)
        self._prompt(wide, "ws_confidence").update(min=1, max=30_000_000)
        self._set_answer(wide, "ws_confidence", 29_999_999)
        write_json(out / "downloads" / "wide.ipynb", wide)
        bad = copy.deepcopy(nb)
        self._prompt(bad, "ws_stood_out")["kind"] = ["long_text"]
        write_json(out / "downloads" / "malformed.ipynb", bad)
        code, stdout, err, secs = cli("workshop", "collect", out)
        assert code == 0 and secs < 15, err
        for name in ("wide.ipynb", "malformed.ipynb"):
            assert re.search(rf"skipped .*{name}: \S", err), err
        assert "29999999" not in stdout
        code, _o, err, secs = cli("workshop", "summary", out)
        assert code == 0 and secs < 20 and "wide.ipynb" in err, err

    def test_23_deeply_nested_download_is_skipped(self, tmp_path, no_binder):
        """Attack 23, variant: a "download" that is 200k-deep nested JSON is skipped with a
        reason, not a RecursionError."""
        out, _nb = self._workshop_with_download(tmp_path)
        (out / "downloads" / "deep.ipynb").write_bytes(b"[" * 200_000 + b"]" * 200_000)
        code, _out, err, _ = cli("workshop", "collect", out)
        assert code == 0 and "deep.ipynb" in err and "Recursion" not in err, err

    def test_23_crafted_downloads_are_validated_against_the_vignette(self, tmp_path,
                                                                     no_binder):
        """Attack 23, variant: well-formed but different prompt definitions. A scale widened
        to 1..100 (answer 77) and an extra choice prompt with 2,000 options (the summary
        draws one bar per option: ~20k options take minutes and gigabytes) must be skipped,
        because they are not the vignette's prompt set; the summary then stays small."""
        out, nb = self._workshop_with_download(tmp_path)
        changed = copy.deepcopy(nb)
        changed["metadata"][META]["workbook"]["case_id"] = "P09"
        self._prompt(changed, "ws_confidence").update(max=100, anchors={"1": "a", "100": "b"})
        self._set_answer(changed, "ws_confidence", 77)
        write_json(out / "downloads" / "changed.ipynb", changed)
        many = copy.deepcopy(nb)
        many["metadata"][META]["workbook"]["case_id"] = "P08"
        section = many["metadata"][META]["prompt_set"]["sections"][0]
        section["prompts"].append({"id": "zz_many", "kind": "choice", "label": "Many",
                                   "options": [f"o{i}" for i in range(2000)]})
        cell = copy.deepcopy(answer_cell(many))
        cell["id"] = "zzmany"
        cell["metadata"][META].pop("prompts", None)
        cell["metadata"][META]["prompt"] = "zz_many"
        mirror = next(o for o in cell["outputs"] if ANSWER_MIME in o.get("data", {}))
        cell["outputs"] = [mirror]
        mirror["data"][ANSWER_MIME].update(id="zz_many", kind="choice", value="o5")
        many["cells"].append(cell)
        write_json(out / "downloads" / "many.ipynb", many)
        code, stdout, err, _ = cli("workshop", "collect", out, "--format", "json")
        assert code == 0, err
        rows = json.loads(stdout)
        assert {r["participant"] for r in rows} == {"P01", "P02", "P03"}, rows
        assert "changed.ipynb" in err and "many.ipynb" in err, err
        # only once both are skipped: the summary is quick and small
        wrapper = ("import json, resource, subprocess, sys\n"
                   "r = subprocess.run(sys.argv[1:], capture_output=True, text=True, "
                   "timeout=20)\n"
                   "print(json.dumps([r.returncode, r.stderr, "
                   "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))")
        run = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-m",
                              "supervision_kit", "workshop", "summary", str(out)],
                             capture_output=True, text=True, timeout=60)
        code, err, maxrss_kb = json.loads(run.stdout)
        assert code == 0, err
        assert maxrss_kb < 400 * 1024, maxrss_kb

    def test_24_fill_while_another_process_holds_the_lock(self, kinds_workbook, tmp_path):
        """Attack 24: another process holds the workbook lock: fill waits, then gives up
        with one line naming the holder; nothing is written."""
        holder = subprocess.Popen([sys.executable, "-c", (
            "import sys, time\nfrom supervision_kit.core.lock import workbook_lock\n"
            "with workbook_lock(sys.argv[1], what='attack 24 holder'):\n"
            "    print('held', flush=True)\n    time.sleep(30)\n"), str(kinds_workbook)],
            stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "held"
            before = journal_path(kinds_workbook).read_bytes()
            answers = tmp_path / "a.json"
            write_json(answers, {"story": "x"})
            code, _out, err, secs = cli("fill", kinds_workbook, "--responses", answers,
                                        env={"SUPERVISION_KIT_LOCK_WAIT": "0.5"})
            assert code == 1 and "busy" in err and "attack 24 holder" in err, err
            assert str(holder.pid) in err
            one_line_error(err)
            assert 0.4 < secs < 10
            assert journal_path(kinds_workbook).read_bytes() == before
        finally:
            holder.kill()
            holder.wait(10)


# ================================================================ privacy


PII = ("Correction: the NHS number is 943 476 5919, DOB 12-Mar-1984, e-mail "
       "jo.bloggs@example.org, lives at SW1A 1AA.")
PII_PARTS = ("943 476 5919", "12-Mar-1984", "jo.bloggs@example.org", "SW1A 1AA")


class TestPrivacy:
    def test_25_scan_reports_identifiers_in_an_addendum(self, locked):
        """Attack 25 (scan): identifiers written in an addendum of a locked record."""
        add_addendum(locked, "supervisor", PII)
        code, out, _err, _ = cli("scan", locked)
        assert code == 1, out
        for kind in ("nhs", "dob", "email", "postcode"):
            assert re.search(rf": {kind} ", out), (kind, out)
        assert not any(part in out for part in PII_PARTS)  # masked

    def test_25_scan_names_the_addendum_in_process(self, locked):
        """Attack 25, read in this process (the CLI test above runs the installed package in
        a subprocess): each finding names the addendum, who added it and when."""
        from supervision_kit.core.workbook import open_record
        from supervision_kit.privacy.scan import scan

        add_addendum(locked, "supervisor", PII)
        added = open_record(locked).state.addenda[-1]
        where = f"addendum 1 (supervisor, {str(added['t'])[:10]})"
        res = scan(locked)
        found = [f for f in res.findings if f.prompt == where]
        assert {f.kind for f in found} >= {"nhs", "dob", "email", "postcode"}, res.findings
        assert all(f.file == str(locked) for f in found)
        assert {f.kind for f in scan(locked, detectors=["email"]).findings} == {"email"}

    def test_25_export_redact_removes_identifiers_in_an_addendum(self, locked, tmp_path):
        """Attack 25 (export --redact): the same identifiers are gone from the export."""
        add_addendum(locked, "supervisor", PII)
        plain = tmp_path / "plain.html"
        code, _out, err, _ = cli("export", locked, "--out", plain, timeout=60)
        assert code == 0, err
        assert all(part in plain.read_text() for part in ("943 476 5919", "SW1A 1AA"))
        redacted = tmp_path / "redacted.html"
        code, _out, err, _ = cli("export", locked, "--redact", "--out", redacted, timeout=60)
        assert code == 0, err
        page = redacted.read_text()
        for part in PII_PARTS:
            assert part not in page, part
        assert "removed]" in page and "Correction: the NHS number is" in page
