import csv
import io
import json
import os
import pickle
import stat

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
    (store / "demo-02" / "2026-01-01-broken.ipynb").write_text('{"cells": [')
    (store / "demo-02" / "2026-01-02-binary.ipynb").write_bytes(b"\xff\xfe\x00")
    (store / "demo-02" / "analysis.ipynb").write_text(json.dumps(
        {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    hidden = store / "demo-01" / ".ipynb_checkpoints"
    hidden.mkdir()
    (hidden / "2026-01-10-session-checkpoint.ipynb").write_text("{}")
    return {"open": open_wb, "done": done_wb, "other": other}


def test_reads_journal_only_and_finalized_alike(store, mixed_store):
    df = supervision_kit.load_store(store)
    one = df[df["path"] == str(mixed_store["open"])].set_index("prompt_id")
    assert one.loc["worker_agenda", "value"] == "Tired but steady"
    assert one.loc["session_rating", "value"] == 7
    assert one.loc["session_rating", "kind"] == "scale"
    assert one.loc["session_rating", "section"] == "checkin"
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
    _doctor(data, "demo-02/2026-01-20-session.ipynb", 99)
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
    assert "demo-02/2026-01-20-session.ipynb" not in _index(store)["files"]


class _Boom:
    def __reduce__(self):
        return (os.mkdir, (str(BOOM),))


BOOM = None


def test_damaged_or_tampered_index_is_rebuilt(store, mixed_store, tmp_path):
    global BOOM
    load_store(store)
    (store / INDEX_NAME).write_bytes(b"not a pickle")
    assert len(load_store(store)) == 6
    assert _index(store)["format"] == INDEX_FORMAT
    BOOM = tmp_path / "code-ran"
    (store / INDEX_NAME).write_bytes(pickle.dumps({"format": 1, "files": _Boom()}))
    assert len(load_store(store)) == 6
    assert not BOOM.exists()  # the index may hold plain data only
    assert isinstance(_index(store)["files"], dict)


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
