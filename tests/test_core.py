"""The workbook core: one read rule, one guarded append path, the lock rule on disk, formats,
and the layers of the package (issue 11)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from supervision_kit.core import formats
from supervision_kit.core.append import append
from supervision_kit.core.errors import BusyError, FormatError, KitError, LockedError
from supervision_kit.core.lock import workbook_lock
from supervision_kit.core.store import journal_path
from supervision_kit.core.workbook import META, open_record, read_answers
from supervision_kit.record import fill, finalize
from supervision_kit.signoff import sign, verify
from tests.helpers import FIXTURE_TEMPLATES, ROOT, load_json, run_cli

FORMAT1 = Path(__file__).parent / "fixtures" / "format1" / "2026-05-12-session.ipynb"


@pytest.fixture
def signed_ready(kinds_workbook):
    fill(kinds_workbook, {"story": "We met at the centre.", "mood": 4})
    return kinds_workbook


# ---------------------------------------------------------------- the lock rule, on disk


def test_kernel_opened_before_signing_cannot_change_after_both_signed(
        signed_ready, monkeypatch):
    from supervision_kit.kernel import open_workbook

    monkeypatch.chdir(signed_ready.parent)
    wb = open_workbook(signed_ready.name, show=False)  # opened while unsigned, as in JupyterLab
    wb.ask("story")
    assert not wb.locked
    for role, name in (("worker", "W. Test"), ("supervisor", "S. Test")):
        code, _out, err = run_cli("sign", signed_ready, "--role", role, "--name", name)
        assert code == 0, err  # another process (the CLI, or another browser) signs
    before = journal_path(signed_ready).read_bytes()
    wb._changed("story", "Changed in the still-open kernel")  # as a keystroke does
    wb.flush()
    assert journal_path(signed_ready).read_bytes() == before  # nothing appended
    assert verify(signed_ready).ok
    assert read_answers(signed_ready)["answers"]["story"] == "We met at the centre."
    assert wb.locked and "Locked" in wb.status.value and "W. Test (worker)" in wb.status.value
    assert wb.fields["story"].widget.disabled  # the open workbook shows it is locked
    assert wb.values["story"] == "We met at the centre."  # and shows the signed answer
    wb.close()


def test_every_writer_is_refused_once_locked_except_addenda(signed_ready):
    sign(signed_ready, "worker", "W. Test")
    sign(signed_ready, "supervisor", "S. Test")
    before = journal_path(signed_ready).read_bytes()
    with pytest.raises(LockedError) as err:
        append(signed_ready, [{"id": "story", "v": "x"}])
    assert err.value.locked_by == {"worker": "W. Test", "supervisor": "S. Test"}
    assert err.value.path == str(signed_ready)
    with pytest.raises(LockedError):
        fill(signed_ready, {"mood": 1})
    with pytest.raises(LockedError):
        append(signed_ready, [{"type": "sign", "role": "worker", "answers_sha256": "0"}])
    assert journal_path(signed_ready).read_bytes() == before
    [ev] = append(signed_ready, [{"type": "addendum", "role": "worker", "text": "A note."}])
    assert ev["type"] == "addendum"


def test_lock_wait_names_the_holder_and_gives_up(kinds_workbook):
    held = threading.Event()
    release = threading.Event()

    def hold():
        with workbook_lock(kinds_workbook, what="a long finalize"):
            held.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    try:
        assert held.wait(5)
        start = time.monotonic()
        with pytest.raises(BusyError) as err:
            append(kinds_workbook, [{"id": "story", "v": "x"}], wait=0.3)
        assert time.monotonic() - start < 5
        assert "a long finalize" in str(err.value) and str(os.getpid()) in str(err.value)
        assert err.value.holder["pid"] == os.getpid()
    finally:
        release.set()
        t.join(10)
    assert append(kinds_workbook, [{"id": "story", "v": "x"}])[0]["v"] == "x"


# ---------------------------------------------------------------- one read rule


def test_every_reader_gives_the_same_answers(kinds_workbook, store):
    from supervision_kit.table.index import load_store

    fill(kinds_workbook, {"story": "First", "mood": 2})
    fill(kinds_workbook, {"story": "Second"})
    rec = open_record(kinds_workbook)
    df = load_store(store)
    table = dict(zip(df["prompt_id"], df["value"], strict=True))
    assert rec.answers["story"] == read_answers(kinds_workbook)["answers"]["story"] \
        == table["story"] == "Second"
    finalize(kinds_workbook)
    journal_path(kinds_workbook).unlink()
    assert open_record(kinds_workbook).answers == rec.answers  # the .ipynb alone


def test_record_from_bytes_and_newer_format_is_refused(kinds_workbook, tmp_path):
    from supervision_kit.core.workbook import parse_notebook

    nb = load_json(kinds_workbook)
    parsed = parse_notebook(json.dumps(nb).encode(), "upload")
    assert parsed["metadata"][META]["format"] == formats.FORMAT
    nb["metadata"][META]["format"] = 99
    newer = tmp_path / "newer.ipynb"
    newer.write_text(json.dumps(nb))
    with pytest.raises(FormatError, match="made by a newer supervision-kit") as err:
        open_record(newer)
    assert err.value.found == 99 and err.value.supported == formats.FORMAT
    code, _out, stderr = run_cli("responses", newer)
    assert code == 2 and "newer supervision-kit" in stderr


def test_stored_format1_workbook_is_upgraded_in_memory_and_by_finalize(tmp_path):
    from supervision_kit.table.index import load_store

    case = tmp_path / "store" / "demo-01"
    case.mkdir(parents=True)
    path = case / FORMAT1.name
    shutil.copyfile(FORMAT1, path)
    raw = load_json(path)
    assert raw["metadata"][META]["format"] == 1
    rec = open_record(path)
    assert rec.nb["metadata"][META]["format"] == formats.FORMAT
    rated = {pid for pid, p in rec.prompts.items() if "rates" in p}
    assert "cc_empathy_rating" in rated and "cw_planning_rating" in rated
    assert rec.prompts["goals"]["carry"]["review"] == "gas"
    assert rec.locked and verify(path).ok  # signed in 0.1, still verified
    df = load_store(tmp_path / "store")
    from supervision_kit.progress import measures as P

    assert not P.ratings(df, "demo-01").empty and not P.goal_summary(df, "demo-01").empty
    finalize(path)
    assert load_json(path)["metadata"][META]["format"] == formats.FORMAT
    assert verify(path).ok
    assert open_record(path).answers == rec.answers


# ---------------------------------------------------------------- one notebook writer


def test_every_notebook_written_is_private_valid_and_trusted(make_workbook, store):
    import nbformat
    from nbformat.sign import NotebookNotary

    path = make_workbook()
    fill(path, {"worker_agenda": "C-1"})
    finalize(path)
    for p in (path,):
        assert os.stat(p).st_mode & 0o777 == 0o600
        node = nbformat.read(p, as_version=4)
        nbformat.validate(node)
        assert NotebookNotary().check_signature(node)


def test_no_module_writes_notebooks_by_hand():
    """Only core/notebook.py turns notebooks into files (grep for the usual shortcuts)."""
    pkg = ROOT / "supervision_kit"
    offenders = []
    for f in pkg.rglob("*.py"):
        text = f.read_text()
        if f.name == "notebook.py" and f.parent.name == "core":
            continue
        for needle in ("nbformat.write(", "nbformat.writes(", "execute_notebook(str(path), str(",
                       'json.dumps(nb, indent'):
            if needle in text:
                offenders.append(f"{f.relative_to(ROOT)}: {needle}")
    assert offenders == []


# ---------------------------------------------------------------- layers


def test_layers_have_no_cycles_or_private_imports():
    tool = ROOT.parent / "shared" / "tools" / "layers.py"
    if not tool.is_file():
        pytest.skip("../shared/tools/layers.py is not beside this checkout")
    run = subprocess.run([sys.executable, str(tool), str(ROOT / "supervision_kit")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def test_core_imports_nothing_above_it_and_no_top_level_fcntl():
    core = ROOT / "supervision_kit" / "core"
    for f in core.glob("*.py"):
        text = f.read_text()
        assert "from .." not in text, f"{f.name} imports from above the core"
        assert "import fcntl" not in text
    for f in (ROOT / "supervision_kit").rglob("*.py"):
        assert "\nimport fcntl" not in f.read_text(), f


def test_package_is_typed():
    assert (ROOT / "supervision_kit" / "py.typed").is_file()


def test_errors_carry_fields_and_causes(kinds_workbook, tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    with pytest.raises(KitError) as err:
        open_record(bad)
    assert err.value.path == str(bad) and err.value.exit_code == 2
    assert err.value.__cause__ is not None  # chained: --debug shows the JSON error too
    with pytest.raises(KitError) as err:
        fill(kinds_workbook, {"mood": 9})
    assert err.value.prompt_id == "mood"


# ---------------------------------------------------------------- sessions around the worker


@pytest.fixture
def pair(store):
    from supervision_kit.generate.render import new_workbook

    def make(date, cases, **kw):
        return new_workbook(worker="W. Test", supervisor="S. Test", cases=cases, date=date,
                            template="pair", templates=str(FIXTURE_TEMPLATES), store=store, **kw)
    return make


def test_one_session_two_cases_blocks_and_hours_once(pair, store):
    from supervision_kit.progress import measures as P
    from supervision_kit.table.index import load_store

    path = pair("2026-03-02", ["C-1", "C-2"])
    assert path.parent == store / "sessions"
    rec = open_record(path)
    assert rec.info["cases"] == ["C-1", "C-2"] and rec.info["case_id"] == ""
    ids = list(rec.prompts)
    assert ids.count("minutes") == 1 and "at_risk__c1" in ids and "at_risk__c2" in ids
    assert rec.prompts["risk_log__c2"]["show_if"]["prompt"] == "at_risk__c2"
    assert rec.prompts["listening__c1"]["evidence"] == "listening_note__c1"
    assert rec.prompts["aims__c2"]["case"] == "C-2"
    fill(path, {"minutes": 90, "aims__c1": [{"aim": "Walk to school", "got": -1}],
                "aims__c2": [{"aim": "Pay the rent", "got": 0}], "listening__c1": 3})
    df = load_store(store)
    assert P.worker_sessions(df, "W. Test") == [(df["date"].iloc[0], 90.0)]  # once
    assert set(P.goal_scores(df, "C-1")["goal"]) == {"Walk to school"}
    assert set(P.goal_scores(df, "C-2")["goal"]) == {"Pay the rent"}


def test_carry_forward_per_case_and_per_worker_and_until_closed(pair):
    first = pair("2026-03-02", ["C-1", "C-2"])
    fill(first, {"at_risk__c1": "Yes",
                 "risk_log__c1": [{"concern": "Unsafe heating", "by_when": "2026-03-09"}],
                 "todo__c2": [{"what": "Call the landlord", "who": "W"}],
                 "dev_goals": [{"aim": "Chair a meeting"}]})
    second = pair("2026-03-16", ["C-1"])  # only C-1 today
    p2 = open_record(second).prompts
    labels = {pid: p["label"] for pid, p in p2.items() if pid.startswith(("cf_", "cfw_"))}
    assert any("Unsafe heating" in v and p2[k]["case"] == "C-1" for k, v in labels.items())
    assert not any("landlord" in v for v in labels.values())  # C-2 was not discussed
    assert any("Chair a meeting" in v and k.startswith("cfw_") for k, v in labels.items())
    risk = next(k for k, v in labels.items() if "Unsafe heating" in v)
    fill(second, {risk: "Still open"})
    third = pair("2026-03-30", ["C-1", "C-2"])
    p3 = open_record(third).prompts
    shown = [p["label"] for pid, p in p3.items() if pid.startswith("cf_")]
    assert any("Unsafe heating" in s for s in shown)  # still open: shown again
    assert any("landlord" in s for s in shown)  # C-2's action waited for C-2's next session
    risk3 = next(pid for pid, p in p3.items() if "Unsafe heating" in p.get("label", ""))
    fill(third, {risk3: "Closed"})
    fourth = open_record(pair("2026-04-13", ["C-1"])).prompts
    assert not any("Unsafe heating" in p.get("label", "") for p in fourth.values())


def test_session_without_cases_and_worksheet_needs_one(pair, make_workbook):
    path = pair("2026-03-02", [])
    ids = set(open_record(path).prompts)
    assert ids == {"minutes", "how_are_you", "dev_goals"}
    from supervision_kit.core.errors import InputError

    with pytest.raises(InputError, match="exactly one --case"):
        make_workbook(template="kinds", templates=str(FIXTURE_TEMPLATES), case=None)


def test_new_never_adopts_an_old_journal(make_workbook):
    path = make_workbook()
    fill(path, {"worker_agenda": "old answers"})
    path.unlink()  # the workbook is deleted, its journal stays
    with pytest.raises(KitError, match="journal of an earlier workbook"):
        make_workbook()
    assert not path.exists()
