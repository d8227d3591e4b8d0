import csv
import io
import json
import os
import pickle
import re
import stat
import sys

import msgspec
import pytest

import supervision_kit
from supervision_kit.core.prompts import load_prompt_set
from supervision_kit.core.store import journal_path
from supervision_kit.record import fill, finalize
from supervision_kit.table import index as index_module
from supervision_kit.table.index import INDEX_FORMAT, INDEX_NAME, load_store, sessions, wide
from tests.helpers import run_cli


@pytest.fixture(autouse=True)
def _no_racy_window(monkeypatch):
    """Files written a moment ago are normally read again at the next load (see
    test_racy_rewrite_is_noticed); the tests that doctor the index need it trusted."""
    monkeypatch.setattr(index_module, "RACY_NS", 0)


@pytest.fixture
def mixed_store(store, make_workbook):
    """Journal-only, finalized, corrupt, foreign and hidden files side by side."""
    open_wb = make_workbook(case="demo-01", date="2026-01-10")
    fill(open_wb, {"worker_agenda": "Tired but steady", "session_rating": 7,
                   "duration_minutes": 60})
    done_wb = make_workbook(case="demo-01", date="2026-02-10")
    fill(done_wb, {"worker_agenda": "Better week",
                   "goals": [{"goal": "Walk to the shop", "weight": 2}]})
    finalize(done_wb)
    journal_path(done_wb).unlink()  # the .ipynb alone is the record
    other = make_workbook(case="demo-02", date="2026-01-20")
    fill(other, {"session_rating": 4}, role="worker")
    (store / "demo-02").mkdir(exist_ok=True)
    (store / "demo-02" / "2026-01-01-broken.ipynb").write_text('{"cells": [')
    (store / "demo-02" / "2026-01-02-binary.ipynb").write_bytes(b"\xff\xfe\x00")
    (store / "demo-02" / "analysis.ipynb").write_text(json.dumps(
        {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    hidden = store / "sessions" / ".ipynb_checkpoints"
    hidden.mkdir()
    (hidden / "2026-01-10-session-checkpoint.ipynb").write_text("{}")
    return {"open": open_wb, "done": done_wb, "other": other}


def test_reads_journal_only_and_finalized_alike(store, mixed_store):
    df = supervision_kit.load_store(store)
    one = df[df["path"] == str(mixed_store["open"])].set_index("prompt_id")
    assert one.loc["worker_agenda", "value"] == "Tired but steady"
    assert one.loc["session_rating", "value"] == 7
    assert one.loc["session_rating", "kind"] == "scale"
    assert one.loc["session_rating", "section"] == "feedback"
    assert one.loc["session_rating", "role"] == "worker"
    assert one.loc["duration_minutes", "role"] == "joint"
    assert not one["finalized"].any()
    two = df[df["path"] == str(mixed_store["done"])].set_index("prompt_id")
    assert two.loc["goals", "value"][0]["goal"] == "Walk to the shop"
    assert two["finalized"].all()
    assert set(df["case"]) == {"demo-01", "demo-02"}
    assert set(df["template"]) == {"session"}
    assert set(df["version"]) == {load_prompt_set("session").version}
    assert str(df["date"].dtype).startswith("datetime64")
    assert df.loc[df["prompt_id"] == "worker_agenda", "date"].dt.month.tolist() == [1, 2]
    assert df["value"].map(lambda v: v not in (None, "", [])).all()  # answered prompts only


def test_unreadable_and_foreign_files_are_skipped_and_reported(store, mixed_store):
    df = load_store(store)
    skipped = {os.path.basename(s["path"]): s["error"] for s in df.attrs["skipped"]}
    assert set(skipped) == {"2026-01-01-broken.ipynb", "2026-01-02-binary.ipynb",
                            "analysis.ipynb"}
    assert "truncated JSON" in skipped["2026-01-01-broken.ipynb"]
    assert "not UTF-8" in skipped["2026-01-02-binary.ipynb"]
    assert "not a supervision-kit workbook" in skipped["analysis.ipynb"]
    assert not df["path"].str.contains("checkpoint").any()
    # still reported when served from the index
    assert len(load_store(store).attrs["skipped"]) == 3


def test_case_filter_and_wide_view(store, mixed_store):
    df = load_store(store, case="demo-01")
    assert set(df["case"]) == {"demo-01"} and df.attrs["skipped"] == []
    w = wide(df, "demo-01")
    assert list(w.index.names) == ["date", "template"]
    assert w["worker_agenda"].tolist() == ["Tired but steady", "Better week"]
    assert w.columns[0] == "worker_agenda"  # workbook order
    everything = wide(load_store(store))
    assert everything.index.names[0] == "case" and len(everything) == 3
    s = sessions(load_store(store))
    assert s["answers"].tolist() == [3, 2, 1]


def _index(store):
    return msgspec.msgpack.decode((store / INDEX_NAME).read_bytes())


def _save(store, data):
    (store / INDEX_NAME).write_bytes(msgspec.msgpack.encode(data))


def _doctor(data, rel, value):
    """Overwrite the first cached answer of one workbook in a loaded index."""
    books = data["books"]
    i = books["rel"].index(rel)
    data["values"][sum(books["rows"][:i])] = value


def test_index_cache_is_private_and_used(store, mixed_store):
    load_store(store)
    index = store / INDEX_NAME
    assert stat.S_IMODE(index.stat().st_mode) == 0o600
    # prove the second read comes from the index: doctor an unchanged file's cached value
    data = _index(store)
    _doctor(data, "sessions/2026-01-20-session-demo-02.ipynb", 99)
    _save(store, data)
    assert load_store(store, case="demo-02")["value"].tolist() == [99]
    # a change to the journal (size, mtime) invalidates just that file
    fill(mixed_store["other"], {"session_rating": 5})
    assert load_store(store, case="demo-02")["value"].tolist() == [5]
    assert load_store(store, cache=False)["value"].tolist().count(5) == 1


def test_cache_follows_edits_finalize_and_deletes(store, mixed_store):
    before = load_store(store)
    fill(mixed_store["done"], {"worker_agenda": "Rewritten"})  # journal appears beside a final nb
    df = load_store(store)
    assert df.loc[(df["path"] == str(mixed_store["done"])) & (df["prompt_id"] == "worker_agenda"),
                  "value"].item() == "Rewritten"
    finalize(mixed_store["open"])
    journal_path(mixed_store["open"]).unlink()
    df = load_store(store)
    assert df.loc[df["path"] == str(mixed_store["open"]), "finalized"].all()
    mixed_store["other"].unlink()
    df = load_store(store)
    assert len(df) == len(before) - 1
    assert "sessions/2026-01-20-session-demo-02.ipynb" not in _index(store)["files"]


class _Boom:
    def __reduce__(self):
        return (os.mkdir, (str(BOOM),))


BOOM = None


def test_damaged_or_tampered_index_is_rebuilt(store, mixed_store, tmp_path):
    global BOOM
    load_store(store)
    (store / INDEX_NAME).write_bytes(b"not an index")
    assert len(load_store(store)) == 6
    assert _index(store)["format"] == INDEX_FORMAT
    BOOM = tmp_path / "code-ran"
    payload = pickle.dumps({"format": 1, "files": _Boom()})
    (store / INDEX_NAME).write_bytes(payload)
    (store / index_module.LEGACY_INDEX).write_bytes(payload)  # an older version's index
    assert len(load_store(store)) == 6
    assert not BOOM.exists()  # nothing in the store is ever unpickled
    assert isinstance(_index(store)["files"], dict)
    assert not (store / index_module.LEGACY_INDEX).exists()  # removed when the index is written


def _good_index(store):
    return _index(store), (store / INDEX_NAME).read_bytes()


@pytest.mark.parametrize("craft", [
    lambda data, raw: b"",
    lambda data, raw: raw[: len(raw) // 2],  # torn
    lambda data, raw: raw + b"\xc0",  # trailing bytes
    lambda data, raw: b"\xdd\xff\xff\xff\xff",  # an array header claiming 4 billion items
    lambda data, raw: b"\xdf\xff\xff\xff\xff",  # a map of 4 billion pairs
    lambda data, raw: b"\xdb\xff\xff\xff\xff" + b"x" * 64,  # a 4 GB string
    lambda data, raw: b"\x91" * 200_000 + b"\xc0",  # nested 200,000 deep
    lambda data, raw: b"\xc7\x05\x01hello",  # an extension type
    lambda data, raw: msgspec.msgpack.encode(data | {"format": 3}),
    lambda data, raw: msgspec.msgpack.encode(data | {"extra": 1}),
    lambda data, raw: msgspec.msgpack.encode(data | {"codes": [len(data["prompts"])] * len(
        data["codes"])}),  # rows pointing at prompts that are not there
    lambda data, raw: msgspec.msgpack.encode(data | {"files": {
        k: [*v[:5], "x"] for k, v in data["files"].items()}}),  # a key of the wrong type
    lambda data, raw: msgspec.msgpack.encode(data | {"errors": {}}),  # files unaccounted for
    lambda data, raw: msgspec.msgpack.encode(data | {"context": [[10**6, {}]]}),
    lambda data, raw: msgspec.msgpack.encode({**data, "books": {**data["books"], "rows": [
        -1] * len(data["books"]["rows"])}}),
], ids=["empty", "torn", "trailing", "huge-array", "huge-map", "huge-str", "deep", "ext",
        "old-format", "unknown-field", "bad-codes", "bad-key", "no-errors", "bad-context",
        "negative-rows"])
def test_crafted_index_is_ignored_and_rebuilt(store, mixed_store, craft):
    import pandas.testing as pdt

    fresh = load_store(store, cache=False)
    load_store(store)
    data, raw = _good_index(store)
    _doctor(data, str(mixed_store["other"].relative_to(store)), "from a crafted index")
    (store / INDEX_NAME).write_bytes(craft(data, msgspec.msgpack.encode(data)))
    df = load_store(store)
    pdt.assert_frame_equal(df, fresh)
    assert df.attrs["skipped"] == fresh.attrs["skipped"]
    assert _index(store)["format"] == INDEX_FORMAT  # rebuilt
    assert index_module._read_index(store / INDEX_NAME) is not None


def test_index_that_is_a_link_a_pipe_or_not_ours_is_ignored(store, mixed_store, tmp_path,
                                                           monkeypatch):
    import pandas.testing as pdt

    fresh = load_store(store, cache=False)
    load_store(store)
    index = store / INDEX_NAME
    data = _index(store)
    _doctor(data, str(mixed_store["other"].relative_to(store)), "planted")
    planted = msgspec.msgpack.encode(data)
    elsewhere = tmp_path / "elsewhere.msgpack"
    elsewhere.write_bytes(planted)
    os.chmod(elsewhere, 0o600)
    index.unlink()
    index.symlink_to(elsewhere)
    pdt.assert_frame_equal(load_store(store), fresh)  # the link is not followed ...
    assert not index.is_symlink() and elsewhere.read_bytes() == planted  # ... but replaced
    assert stat.S_IMODE(index.stat().st_mode) == 0o600

    index.unlink()
    os.mkfifo(index)  # opened without blocking, refused, replaced
    pdt.assert_frame_equal(load_store(store), fresh)
    assert stat.S_ISREG(index.lstat().st_mode)

    index.write_bytes(planted)
    monkeypatch.setattr(index_module, "MAX_INDEX", len(planted) - 1)  # too big to trust
    pdt.assert_frame_equal(load_store(store), fresh)
    monkeypatch.undo()
    monkeypatch.setattr(index_module, "RACY_NS", 0)
    if os.getuid() == 0:  # a file someone else owns is not trusted (only root can make one)
        index.write_bytes(planted)
        os.chown(index, 65534, 65534)
        pdt.assert_frame_equal(load_store(store), fresh)
        assert index.stat().st_uid == 0  # rewritten as ours


def test_recently_changed_workbooks_are_read_again(store, mixed_store, monkeypatch):
    """A rewrite within one timestamp tick that keeps the size cannot be seen in the numbers,
    so a workbook changed within RACY_NS of a scan is not trusted from the index (git's
    "racily clean" rule) until a later load finds it settled."""
    monkeypatch.setattr(index_module, "RACY_NS", 10**18)  # everything was just changed
    load_store(store)
    readable = {str(mixed_store[k].relative_to(store)) for k in ("open", "done", "other")}
    assert readable <= set(_index(store)["recheck"])
    _doctor_index(store, {mixed_store["open"]: "stale"})  # what a same-tick rewrite leaves
    assert _value(load_store(store), mixed_store["open"], "worker_agenda") == "Tired but steady"
    monkeypatch.setattr(index_module, "RACY_NS", 0)  # now they have settled
    assert _value(load_store(store), mixed_store["open"], "worker_agenda") == "Tired but steady"
    assert _index(store)["recheck"] == []
    _doctor_index(store, {mixed_store["open"]: "trusted now"})
    assert _value(load_store(store), mixed_store["open"], "worker_agenda") == "trusted now"


def test_empty_or_missing_store(tmp_path):
    df = load_store(tmp_path / "nothing-here")
    assert df.empty and "prompt_id" in df.columns and df.attrs["skipped"] == []
    assert not (tmp_path / "nothing-here").exists()


def test_progress_bar_only_when_asked(store, mixed_store, capsys):
    load_store(store, progress=False)
    assert capsys.readouterr().err == ""
    load_store(store, progress=True, cache=False)
    assert "reading workbooks" in capsys.readouterr().err


def test_cli_table_csv_and_json(store, mixed_store):
    code, out, err = run_cli("table", "--store", store, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["case"] for r in rows} == {"demo-01", "demo-02"}
    rating = next(r for r in rows if r["prompt_id"] == "session_rating" and r["case"] == "demo-01")
    assert rating["value"] == "7" and rating["date"] == "2026-01-10"
    goals = next(r for r in rows if r["prompt_id"] == "goals")
    assert json.loads(goals["value"])[0]["weight"] == 2
    assert err.count("warning: skipped") == 3
    code, out, _ = run_cli("table", "--store", store, "--case", "demo-02", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [(r["prompt_id"], r["value"], r["date"]) for r in data] == [
        ("session_rating", 4, "2026-01-20")]
    code, _, err = run_cli("table", "--store", store, "--case", "../x")
    assert code == 2 and "invalid case id" in err


def _value(df, path, pid):
    return df.loc[(df["path"] == str(path)) & (df["prompt_id"] == pid), "value"].item()


def _doctor_index(store, changes):
    data = _index(store)
    for path, value in changes.items():
        _doctor(data, str(path.relative_to(store)), value)
    _save(store, data)


def test_unchanged_store_is_served_from_cached_columns(store, mixed_store):
    load_store(store)
    _doctor_index(store, {mixed_store["open"]: "from the index", mixed_store["other"]: 99})
    df = load_store(store)
    assert _value(df, mixed_store["open"], "worker_agenda") == "from the index"
    assert _value(df, mixed_store["other"], "session_rating") == 99
    assert len(df.attrs["skipped"]) == 3
    # one journal changes: that workbook is read again, the others still come from the index
    fill(mixed_store["other"], {"session_rating": 5})
    df = load_store(store)
    assert _value(df, mixed_store["other"], "session_rating") == 5
    assert _value(df, mixed_store["open"], "worker_agenda") == "from the index"


def test_cached_columns_follow_new_touched_and_deleted_workbooks(store, mixed_store,
                                                                 make_workbook):
    load_store(store)
    _doctor_index(store, {mixed_store["open"]: "stale", mixed_store["done"]: "stale too"})
    # a new workbook appears (its folder's other files are unchanged)
    new = make_workbook(case="demo-01", date="2026-03-10")
    fill(new, {"worker_agenda": "New one"})
    df = load_store(store)
    assert _value(df, new, "worker_agenda") == "New one"
    assert _value(df, mixed_store["open"], "worker_agenda") == "stale"
    # a rewritten .ipynb with the same size is noticed by its mtime alone
    st = mixed_store["done"].stat()
    os.utime(mixed_store["done"], ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    df = load_store(store)
    assert _value(df, mixed_store["done"], "worker_agenda") == "Better week"
    # a deleted workbook drops out of the frame and the index
    new.unlink()
    journal_path(new).unlink()
    df = load_store(store)
    assert not (df["path"] == str(new)).any()
    assert str(new.relative_to(store)) not in _index(store)["files"]
    assert _value(df, mixed_store["open"], "worker_agenda") == "stale"


def test_cached_reads_match_uncached_reads(store, mixed_store, make_workbook):
    import pandas.testing as pdt

    def same():
        cached = load_store(store)
        fresh = load_store(store, cache=False)
        pdt.assert_frame_equal(cached, fresh)
        assert cached.attrs["skipped"] == fresh.attrs["skipped"]
        return cached

    first = same()
    assert len(same()) == len(first)  # the unchanged (cached columns) read
    fill(mixed_store["open"], {"session_rating": 9})
    make_workbook(case="demo-03", date="2026-02-01")  # a workbook with no answers yet
    (store / "demo-02" / "2026-01-01-broken.ipynb").unlink()
    df = same()
    assert len(df.attrs["skipped"]) == 2 and "demo-03" not in set(df["case"])


def test_case_read_keeps_other_cases_in_the_index(store, mixed_store):
    load_store(store)
    _doctor_index(store, {mixed_store["open"]: "kept"})
    fill(mixed_store["other"], {"session_rating": 2})
    df = load_store(store, case="demo-02")  # re-reads demo-02 and rewrites the index
    assert set(df["case"]) == {"demo-02"} and df["value"].tolist() == [2]
    assert len(df.attrs["skipped"]) == 3
    df = load_store(store)
    assert _value(df, mixed_store["open"], "worker_agenda") == "kept"
    assert _value(df, mixed_store["other"], "session_rating") == 2


def test_inconsistent_index_is_rebuilt(store, mixed_store):
    good = load_store(store)
    data = _index(store)
    data["books"]["rows"][0] += 1  # the answer counts no longer add up
    data["values"][0] = "wrong"
    _save(store, data)
    df = load_store(store)
    assert df["value"].tolist() == good["value"].tolist()
    assert "wrong" not in df["value"].tolist()


def test_private_answers_are_left_out_unless_asked_for(store, make_workbook):
    wb = make_workbook(case="demo-03", date="2026-04-01")
    fill(wb, {"wellbeing": "Not sleeping well", "worker_agenda": "C-1 next steps"})
    ids = set(load_store(store)["prompt_id"])
    assert "worker_agenda" in ids and "wellbeing" not in ids
    assert "wellbeing" in set(load_store(store, private=True)["prompt_id"])


# ---------------------------------------------------------------- several processes at once

AGENDA = re.compile(r"(\d+):(\d+)")
RACY_NS = index_module.RACY_NS


def _check_frame(df, seen):
    """One load's frame holds together, and no answer is older than one this process saw
    before (an index entry may only be trusted while its file is unchanged)."""
    assert df.attrs["skipped"] == []
    assert not df.duplicated(["path", "prompt_id"]).any()
    books = df["path"].nunique()
    assert books >= seen.get("", 0)
    seen[""] = books
    for path, value in df.loc[df["prompt_id"] == "worker_agenda", ["path", "value"]].itertuples(
            index=False, name=None):
        m = AGENDA.fullmatch(value)
        assert m, value
        assert int(m[2]) >= seen.get(path, 0), (path, value, seen.get(path))
        seen[path] = int(m[2])


def _conc_reader(store, quiet, barrier, done, out):
    import time
    import traceback

    import pandas.testing as pdt

    from supervision_kit.table.index import load_store

    index_module.RACY_NS = RACY_NS  # a forked reader would inherit the tests' 0
    try:
        barrier.wait(timeout=120)  # everyone is ready
        seen, loads, checks, handled = {}, 0, 0, 0
        while True:
            finished = done.is_set()
            _check_frame(load_store(store, progress=False), seen)
            loads += 1
            if quiet.value > handled:  # the writer is waiting: the files stand still
                handled = quiet.value
                cached, fresh = load_store(store), load_store(store, cache=False)
                pdt.assert_frame_equal(cached, fresh)
                assert cached.attrs["skipped"] == fresh.attrs["skipped"]
                checks += 1
                barrier.wait(timeout=120)
            if finished:
                break
            time.sleep(0.05)  # leave the writer some of the machine
        out.put(("reader", loads, checks))
    except BaseException:
        out.put(("fail", traceback.format_exc()))
        barrier.abort()


def _conc_writer(store, blank, phases, steps, quiet, barrier, done, out):
    import traceback
    from pathlib import Path

    from supervision_kit.record import fill, finalize

    try:
        books = sorted(Path(store).rglob("*.ipynb"))
        barrier.wait(timeout=120)
        k = 0
        for phase in range(1, phases + 1):
            for step in range(steps):
                k += 1
                if step == 3:  # a new workbook appears (written whole, then renamed)
                    new = Path(store) / f"conc-{phase}" / "2026-05-01-session.ipynb"
                    new.parent.mkdir()
                    (new.parent / ".new.tmp").write_bytes(Path(blank).read_bytes())
                    os.replace(new.parent / ".new.tmp", new)
                    books.append(new)
                i = k % len(books)
                fill(books[i], {"worker_agenda": f"{i}:{k}"})
                if step == 2:  # one is finalized (its notebook rewritten) meanwhile
                    finalize(books[phase])
            quiet.value = phase
            barrier.wait(timeout=300)  # the readers compare cached and fresh reads
        done.set()
        out.put(("writer", k, len(books)))
    except BaseException:
        out.put(("fail", traceback.format_exc()))
        barrier.abort()


def test_concurrent_loads_while_workbooks_change(store, make_workbook):
    """4 processes load the store over and over while a fifth fills, adds and finalizes
    workbooks: no load sees a broken frame or an answer older than one it saw before, cached
    and fresh reads agree whenever the files stand still, and the index ends up whole."""
    import multiprocessing as mp

    import pandas.testing as pdt

    for n, (case, date) in enumerate([("conc-a", "2026-04-01"), ("conc-a", "2026-04-08"),
                                      ("conc-b", "2026-04-02"), ("conc-b", "2026-04-09")]):
        fill(make_workbook(case=case, date=date), {"worker_agenda": f"{n}:0"})
    made = make_workbook(case="blank", date="2026-05-01")
    blank = store.parent / made.name
    blank.write_bytes(made.read_bytes())
    for leftover in made.parent.glob(f"*{made.stem}*"):  # the workbook, its journal and lock
        leftover.unlink()
    ctx = mp.get_context("fork" if sys.platform == "linux" else "spawn")
    readers = 4
    quiet, done = ctx.Value("i", 0), ctx.Event()
    barrier, out = ctx.Barrier(readers + 1), ctx.Queue()
    procs = [ctx.Process(target=_conc_reader, args=(store, quiet, barrier, done, out))
             for _ in range(readers)]
    procs.append(ctx.Process(target=_conc_writer,
                             args=(store, blank, 3, 5, quiet, barrier, done, out)))
    for p in procs:
        p.start()
    results = [out.get(timeout=280) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    failures = [r[1] for r in results if r[0] == "fail"]
    assert not failures, failures[0]
    loads = [r[1] for r in results if r[0] == "reader"]
    assert len(loads) == readers and min(loads) > 3  # each loaded during every phase at least
    assert all(r[2] == 3 for r in results if r[0] == "reader")  # and compared at each pause
    print(f"loads per reader: {loads}")
    pdt.assert_frame_equal(load_store(store), load_store(store, cache=False))
    assert index_module._read_index(store / INDEX_NAME) is not None
    assert stat.S_IMODE((store / INDEX_NAME).stat().st_mode) == 0o600
    assert not [p for p in store.iterdir() if p.name.endswith(".tmp")]
