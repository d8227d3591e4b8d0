import json
import os
import signal
import subprocess
import sys
import textwrap
import time

from supervision_kit.core import journal as jr


def append_events(path, events):
    """The journal layer's own append (the lock and the lock rule are core.append's job)."""
    fd = jr.open_for_append(path)
    try:
        return jr.write_events(fd, events)
    finally:
        os.close(fd)


def sink(path):
    return lambda events: append_events(path, events)


def test_append_and_read_latest_wins(tmp_path):
    p = tmp_path / "j.jsonl"
    append_events(p, [{"id": "a", "v": 1}, {"id": "b", "v": "x"}])
    append_events(p, [{"id": "a", "v": 2}])
    data = jr.read_journal(p)
    assert [e["seq"] for e in data.events] == [1, 2, 3]
    assert {k: e["v"] for k, e in data.answers().items()} == {"a": 2, "b": "x"}
    assert not data.torn_tail and not data.bad_lines


def test_hash_chain_links_every_line(tmp_path):
    p = tmp_path / "j.jsonl"
    append_events(p, [{"id": "a", "v": 1}])
    append_events(p, [{"id": "a", "v": 2}])
    prev = jr.GENESIS
    for ev in jr.read_journal(p).events:
        assert ev["prev"] == prev and ev["h"] == jr.chain_hash(prev, ev)
        prev = ev["h"]


def test_torn_tail_is_ignored_and_repaired(tmp_path):
    p = tmp_path / "j.jsonl"
    append_events(p, [{"id": "a", "v": "kept"}])
    with open(p, "ab") as fh:
        fh.write(b'{"id": "a", "v": "half-writ')
    data = jr.read_journal(p)
    assert data.torn_tail and data.answers()["a"]["v"] == "kept"
    append_events(p, [{"id": "b", "v": "after"}])
    data = jr.read_journal(p)
    assert {k: e["v"] for k, e in data.answers().items()} == {"a": "kept", "b": "after"}
    assert data.bad_lines == [2]  # the torn line stays visible as damage, not as an answer
    assert data.events[-1]["seq"] == 2


def test_missing_journal_is_empty(tmp_path):
    assert jr.read_journal(tmp_path / "none").events == []


def test_debounced_writer_batches_and_flushes(tmp_path):
    p = tmp_path / "j.jsonl"
    flushed = []
    w = jr.DebouncedWriter(sink(p), delay=0.2, max_wait=1.0, role="worker", on_flush=flushed.append)
    for i in range(5):
        w.put("story", "x" * i)
    assert jr.read_journal(p).events == []  # nothing yet: still inside the debounce window
    deadline = time.monotonic() + 1.0
    while not flushed and time.monotonic() < deadline:
        time.sleep(0.02)
    events = jr.read_journal(p).events
    assert [e["v"] for e in events] == ["xxxx"]  # one write for the burst, last value
    assert events[0]["by"] == "worker" and flushed and flushed[0][0]["id"] == "story"


def test_continuous_typing_still_reaches_disk_every_max_wait(tmp_path):
    p = tmp_path / "j.jsonl"
    w = jr.DebouncedWriter(sink(p), delay=0.3, max_wait=0.5)
    start = time.monotonic()
    while time.monotonic() - start < 1.3:  # a keystroke every 50 ms, never pausing
        w.put("story", str(time.monotonic()))
        time.sleep(0.05)
    assert len(jr.read_journal(p).events) >= 2
    w.flush()


def test_failed_write_keeps_answers_reports_and_retries(tmp_path):
    p = tmp_path / "j.jsonl"
    p.mkdir()  # appending to a folder fails, like a full or vanished disk
    errors = []
    w = jr.DebouncedWriter(sink(p), delay=0.05, max_wait=0.3, on_error=errors.append)
    w.put("story", "typed while the disk was failing")
    deadline = time.monotonic() + 2.0
    while not errors and time.monotonic() < deadline:
        time.sleep(0.02)
    assert errors and "j.jsonl" in errors[0] and "retrying" in errors[0]
    p.rmdir()  # the disk recovers; no further keystroke is needed
    deadline = time.monotonic() + 3.0
    while not p.is_file() and time.monotonic() < deadline:
        time.sleep(0.02)
    while time.monotonic() < deadline and not jr.read_journal(p).events:
        time.sleep(0.02)
    assert jr.read_journal(p).answers()["story"]["v"] == "typed while the disk was failing"


WRITER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from supervision_kit.core.journal import DebouncedWriter, open_for_append, write_events
    path = Path(sys.argv[1])
    def sink(events):
        fd = open_for_append(path)
        try:
            return write_events(fd, events)
        finally:
            os.close(fd)
    w = DebouncedWriter(sink, delay=0.1, max_wait=0.5)
    i = 0
    while True:
        i += 1
        w.put("story", "keystroke %d " % i + "x" * (i % 300))
        w.put("count", i)
        print(i, time.monotonic(), flush=True)
        time.sleep(0.003)
""")


def test_sigkill_mid_stream_loses_nothing_before_the_debounce_window(tmp_path):
    p = tmp_path / "j.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(p)], stdout=subprocess.PIPE,
                            text=True)
    stamps = []
    try:
        start = time.monotonic()
        for line in proc.stdout:
            i, t = line.split()
            stamps.append((int(i), float(t)))
            if time.monotonic() - start > 2.5:
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    killed_at = time.monotonic()
    data = jr.read_journal(p)  # parses: a torn last line at most
    assert not data.bad_lines
    saved = data.answers()["count"]["v"]
    # everything typed more than one max_wait (0.5 s) + margin before the kill is on disk
    must_have = max(i for i, t in stamps if t < killed_at - 0.8)
    assert saved >= must_have
    assert data.answers()["story"]["v"].startswith(f"keystroke {saved} ")
    assert all(json.loads(json.dumps(e)) == e for e in data.events)
