"""Hostile and broken inputs across every command, through the real CLI.

Each row: a clear one-line error (or the correct result), never a traceback, and every file that
existed before left byte-identical when the command fails.
"""

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from supervision_kit.core import journal as jr
from supervision_kit.core.store import journal_path
from supervision_kit.core.workbook import read_answers
from supervision_kit.record import fill
from supervision_kit.signoff import sign
from supervision_kit.signoff.verify import check_chain
from tests.helpers import ROOT, run_cli

pytestmark = pytest.mark.timeout(300)


@dataclass
class Ctx:
    nb: Path
    tmp: Path
    store: Path
    expect_out: list[str] = field(default_factory=list)  # must appear in stdout

    @property
    def journal(self) -> Path:
        return journal_path(self.nb)

    def write(self, name: str, data: str | bytes) -> Path:
        p = self.tmp / name
        p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return p

    def locked(self) -> None:
        fill(self.nb, {"story": "Signed text.", "mood": 3})
        sign(self.nb, "worker", "W. Test")
        sign(self.nb, "supervisor", "S. Test")


def truncate(c: Ctx) -> None:
    raw = c.nb.read_bytes()
    c.nb.write_bytes(raw[: len(raw) // 2])


def set_meta(c: Ctx, change) -> None:
    nb = json.loads(c.nb.read_text())
    change(nb)
    c.nb.write_text(json.dumps(nb))


def fill_args(c: Ctx, payload: str | bytes) -> list:
    return ["fill", c.nb, "--responses", c.write("r.json", payload)]


def _junk_after_an_answer(c: Ctx, junk: bytes) -> list:
    """One good answer, then ``junk`` appended to the journal: the answer is still read."""
    fill(c.nb, {"headline": "kept"})
    with c.journal.open("ab") as fh:
        fh.write(junk)
    c.expect_out.append('"headline": "kept"')
    return ["responses", c.nb]


def torn_journal(c: Ctx) -> list:
    return _junk_after_an_answer(c, b'{"id": "headline", "v": "half-writ')


def wrong_type_journal_lines(c: Ctx) -> list:
    return _junk_after_an_answer(
        c, b'[1, 2, 3]\n"just a string"\n{"id": 5, "v": "id is a number"}\n\xff\xfe\n')


def symlink_outside(c: Ctx) -> list:
    outside = c.tmp / "outside" / "other.ipynb"
    outside.parent.mkdir()
    outside.write_bytes(c.nb.read_bytes())
    link = c.nb.parent / "link.ipynb"
    os.symlink(outside, link)
    return ["fill", link, "--responses", c.write("r.json", '{"story": "via link"}')]


def tampered_journal(c: Ctx) -> list:
    c.locked()
    c.journal.write_text(c.journal.read_text().replace("Signed text.", "Other text."))
    return ["verify", c.nb]


def export_through_symlink(c: Ctx) -> list:
    fill(c.nb, {"mood": 3})
    target = c.write("keep.html", "keep me")
    os.symlink(target, c.tmp / "out.html")
    return ["export", c.nb, "--out", c.tmp / "out.html"]


def locked_then(*args):
    def setup(c: Ctx) -> list:
        c.locked()
        return [a(c) if callable(a) else a for a in args]
    return setup


def existing_workbook(c: Ctx) -> list:
    return ["new", "--case", "case-01", "--date", "2026-03-02", "--template", "kinds",
            "--templates", ROOT / "tests" / "fixtures" / "templates", "--worker", "W",
            "--supervisor", "S", "--store", c.store]


def nb_(c):
    return c.nb


NEW = ["--worker", "W", "--supervisor", "S", "--date", "2026-03-02"]

# (name, setup(ctx) -> argv, expected exit code, text expected in the one-line stderr)
CASES = [
    ("new: case id with ..", lambda c: ["new", "--case", "../evil", *NEW, "--store", c.store],
     2, "invalid case id"),
    ("new: template with ..", lambda c: ["new", "--case", "c1", "--template", "../session",
                                         *NEW, "--store", c.store], 2, "invalid template"),
    ("new: name with a newline", lambda c: ["new", "--case", "c1", "--worker", "A\nB",
                                            "--supervisor", "S", "--store", c.store],
     2, "invalid worker"),
    ("new: workbook already exists", existing_workbook, 1, "already exists"),
    ("prompts: truncated .ipynb", lambda c: (truncate(c), ["prompts", c.nb])[1], 2, "truncated"),
    ("prompts: invalid UTF-8 .ipynb", lambda c: (c.nb.write_bytes(b'{"cells": "\xff\xfe"}'),
                                                  ["prompts", c.nb])[1], 2, "not UTF-8"),
    ("responses: cells of the wrong JSON type",
     lambda c: (set_meta(c, lambda nb: nb.update(cells={})), ["responses", c.nb])[1],
     2, "no cell list"),
    ("responses: prompt set of the wrong JSON type",
     lambda c: (set_meta(c, lambda nb: nb["metadata"]["supervision_kit"].update(prompt_set=[])),
                ["responses", c.nb])[1], 2, "not a supervision-kit workbook"),
    ("responses: journal with a torn last line", torn_journal, 0, None),
    ("responses: journal lines of the wrong JSON types", wrong_type_journal_lines, 0, None),
    ("responses: a folder, not a workbook", lambda c: ["responses", c.nb.parent], 2, "folder"),
    ("fill: responses not an object", lambda c: fill_args(c, "[1, 2]"), 2, "JSON object"),
    ("fill: value of the wrong type", lambda c: fill_args(c, '{"mood": "four"}'), 2, "'mood'"),
    ("fill: 10 MB answer", lambda c: fill_args(c, json.dumps({"story": "x" * 10_000_000})),
     2, "limit"),
    ("fill: NUL byte in an answer", lambda c: fill_args(c, '{"story": "a\\u0000b"}'), 2, "NUL"),
    ("fill: invalid UTF-8 responses", lambda c: fill_args(c, b'{"story": "\xff"}'),
     2, "cannot read"),
    ("fill: lone surrogate in an answer", lambda c: fill_args(c, '{"story": "\\ud800"}'),
     2, "not valid Unicode"),
    ("fill: nesting 100000 deep", lambda c: fill_args(c, "[" * 100_000 + "]" * 100_000),
     1, "error"),
    ("fill: unknown prompt id with ..", lambda c: fill_args(c, '{"../story": "x"}'),
     2, "unknown prompt id"),
    ("fill: symlink to a workbook outside the store", symlink_outside, 2, "symbolic link"),
    ("fill: locked workbook", locked_then("fill", nb_, "--responses",
                                          lambda c: c.write("r.json", '{"story": "late"}')),
     1, "locked"),
    ("finalize: truncated .ipynb", lambda c: (truncate(c), ["finalize", c.nb])[1], 2,
     "truncated"),
    ("sign: unknown role", lambda c: ["sign", c.nb, "--role", "client", "--name", "X"], 2,
     "invalid choice"),
    ("sign: blank name", lambda c: (fill(c.nb, {"mood": 2}),
                                    ["sign", c.nb, "--role", "worker", "--name", "  "])[1],
     2, "name"),
    ("sign: no answers yet", lambda c: ["sign", c.nb, "--role", "worker", "--name", "W"], 2,
     "nothing to sign"),
    ("sign: already locked", locked_then("sign", nb_, "--role", "worker", "--name", "W"), 1,
     "locked"),
    ("verify: no such workbook", lambda c: ["verify", c.tmp / "missing.ipynb"], 2,
     "no such workbook"),
    ("verify: journal edited after signing", tampered_journal, 1, "'story'"),
    ("addendum: not locked", lambda c: ["addendum", c.nb, "--role", "worker", "--text", "x"],
     1, "not locked"),
    ("addendum: empty text", locked_then("addendum", nb_, "--role", "worker", "--text", " "), 2,
     "empty"),
    ("history: truncated .ipynb", lambda c: (truncate(c), ["history", c.nb])[1], 2,
     "truncated"),
    ("scan: no such path", lambda c: ["scan", c.tmp / "nowhere"], 2, "no such"),
    ("scan: unknown detector", lambda c: ["scan", c.nb, "--only", "iban"], 2,
     "unknown detector"),
    ("scan: invalid UTF-8 deny-list", lambda c: ["scan", c.nb, "--deny-list",
                                                 c.write("deny.txt", b"\xff\xfe")], 2, "UTF-8"),
    ("export: unknown format", lambda c: ["export", c.nb, "--to", "docx"], 2, "invalid choice"),
    ("export: --out is a symlink", export_through_symlink, 2, "symbolic link"),
    ("export: truncated .ipynb", lambda c: (truncate(c), ["export", c.nb])[1], 2, "truncated"),
]


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every file (content) and symlink (target) under ``root``, minus lock files."""
    out: dict[str, bytes | str] = {}
    for p in sorted(root.rglob("*")):
        if p.name.endswith(".lock"):
            continue
        if p.is_symlink():
            out[str(p)] = "->" + os.readlink(p)
        elif p.is_file():
            out[str(p)] = p.read_bytes()
    return out


def _name(case) -> str:
    return case.values[0] if hasattr(case, "values") else case[0]


@pytest.mark.parametrize("name,setup,code,message", CASES, ids=[_name(c) for c in CASES])
def test_fault_table(name, setup, code, message, kinds_workbook, store, tmp_path):
    ctx = Ctx(nb=kinds_workbook, tmp=tmp_path, store=store)
    argv = setup(ctx)
    before = snapshot(tmp_path)
    got, out, err = run_cli(*argv)
    assert "Traceback" not in err and "Traceback" not in out
    assert got == code, (got, out, err)
    if code == 0:
        assert err == ""
        for text in ctx.expect_out:
            assert text in out
    else:
        assert len(err.splitlines()) == 1 and err.startswith("supervision-kit: error:"), err
        assert message.lower() in err.lower(), err
        assert snapshot(tmp_path) == before  # nothing changed, nothing created


def test_table_has_at_least_twenty_rows_over_every_command():
    assert len(CASES) >= 20
    commands = {_name(c).split(":")[0] for c in CASES}
    assert commands >= {"new", "prompts", "fill", "responses", "finalize", "sign", "verify",
                        "addendum", "history", "scan", "export"}


def test_two_cli_processes_fill_at_once(kinds_workbook, tmp_path):
    payloads = {
        "a": tmp_path / "a.json", "b": tmp_path / "b.json"}
    payloads["a"].write_text(json.dumps({"story": "from process A"}))
    payloads["b"].write_text(json.dumps({"headline": "from process B"}))
    results = {}

    def run(key):
        results[key] = [run_cli("fill", kinds_workbook, "--responses", payloads[key])
                        for _ in range(3)]

    threads = [threading.Thread(target=run, args=(k,)) for k in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert all(r[0] == 0 for rs in results.values() for r in rs), results
    events = jr.read_journal(journal_path(kinds_workbook)).events
    assert len(events) == 6 and check_chain(events) == []
    answers = read_answers(kinds_workbook)["answers"]
    assert answers["story"] == "from process A" and answers["headline"] == "from process B"


WORKER = """
import sys
from supervision_kit.record import fill
path, pid, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    fill(path, {pid: f"{pid} {i}"})
"""


def test_two_processes_racing_lose_no_update(kinds_workbook):
    n = 40
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(kinds_workbook), pid, str(n)],
                              cwd=ROOT) for pid in ("story", "headline")]
    for p in procs:
        assert p.wait(timeout=240) == 0
    events = jr.read_journal(journal_path(kinds_workbook)).events
    assert len(events) == 2 * n
    assert [e["seq"] for e in events] == list(range(1, 2 * n + 1))
    assert check_chain(events) == []
    for pid in ("story", "headline"):
        assert [e["v"] for e in events if e["id"] == pid] == [f"{pid} {i}" for i in range(n)]
    answers = read_answers(kinds_workbook)["answers"]
    assert answers["story"] == f"story {n - 1}" and answers["headline"] == f"headline {n - 1}"
