"""The real console command: round trips, and bad input as one clean line."""

import json
from pathlib import Path

import pytest

from tests.helpers import FIXTURE_TEMPLATES, run_cli


def new(store, *extra, case="case-01", date="2026-03-02"):
    return run_cli("new", "--worker", "W", "--supervisor", "S", "--case", case,
                   "--date", date, "--store", store, *extra)


def test_new_prints_path_last_and_refuses_overwrite(store):
    code, out, err = new(store)
    path = store / "sessions" / "2026-03-02-session-case-01.ipynb"
    assert code == 0 and out.strip().splitlines()[-1] == str(path) and path.is_file()
    code, out, err = new(store)
    assert code == 1 and "already exists" in err and len(err.splitlines()) == 1


def test_store_from_environment(tmp_path):
    code, out, _ = run_cli("new", "--worker", "W", "--supervisor", "S", "--case", "c9",
                           env={"SUPERVISION_KIT_STORE": str(tmp_path / "envstore")})
    assert code == 0 and out.strip().startswith(str(tmp_path / "envstore" / "sessions"))


def test_python_dash_m_and_console_script_agree():
    import os
    import shutil
    import subprocess
    import sys

    # the console script installed beside this interpreter (a venv need not be on PATH)
    exe = shutil.which("supervision-kit",
                       path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    assert exe, "console script not installed"
    a = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    code, out, _ = run_cli("--help")
    assert a.returncode == code == 0 and a.stdout == out


def test_fill_responses_finalize_round_trip(tmp_path, store):
    _, out, _ = new(store, "--template", "kinds", "--templates", FIXTURE_TEMPLATES)
    nb = out.strip()
    answers = {"story": "Zoë said: “non”\nsecond line <b>x</b>", "mood": 5, "many": ["Red"]}
    resp = tmp_path / "r.json"
    resp.write_text(json.dumps(answers, ensure_ascii=False), encoding="utf-8")
    assert run_cli("fill", nb, "--responses", resp)[0] == 0
    code, out, _ = run_cli("responses", nb)
    rec = json.loads(out)
    assert code == 0 and rec["answers"] == answers and rec["workbook"]["case_id"] == "case-01"
    assert run_cli("finalize", nb)[0] == 0
    code, out, _ = run_cli("responses", nb, "--format", "csv")
    assert out.splitlines()[0] == "prompt_id,value" and "mood,5" in out
    code, out, _ = run_cli("prompts", nb, "--format", "json")
    assert [p["id"] for p in json.loads(out)][:3] == ["story", "headline", "mood"]


def test_fill_from_stdin(store):
    _, out, _ = new(store, "--template", "kinds", "--templates", FIXTURE_TEMPLATES)
    code, _, err = run_cli("fill", out.strip(), "--responses", "-", input='{"mood": 1}')
    assert code == 0, err
    from supervision_kit.core.workbook import read_answers

    assert read_answers(out.strip())["answers"] == {"mood": 1}  # what stdin said, saved


@pytest.fixture
def wb(store):
    code, out, err = new(store, "--template", "kinds", "--templates", FIXTURE_TEMPLATES)
    assert code == 0, err
    return out.strip()


BAD = [
    # (args builder, exit code, text in the message)
    (lambda wb, t: ["new", "--worker", "W", "--supervisor", "S", "--case", "../x",
                    "--store", t], 2, "invalid case id"),
    (lambda wb, t: ["new", "--worker", "W", "--supervisor", "S", "--case", "a",
                    "--date", "31/12/2026", "--store", t], 2, "invalid date"),
    (lambda wb, t: ["new", "--worker", "W", "--supervisor", "S", "--case", "a",
                    "--template", "nope", "--store", t], 2, "unknown template"),
    (lambda wb, t: ["new", "--worker", "", "--supervisor", "S", "--case", "a",
                    "--store", t], 2, "worker"),
    (lambda wb, t: ["new", "--supervisor", "S", "--case", "a"], 2, "--worker"),
    (lambda wb, t: ["nonsense"], 2, "invalid choice"),
    (lambda wb, t: ["responses", f"{t}/missing.ipynb"], 2, "no such workbook"),
    (lambda wb, t: ["responses", t], 2, "is a folder"),
    (lambda wb, t: ["fill", wb, "--responses", f"{t}/none.json"], 2, "no such file"),
    (lambda wb, t: ["fill", wb, "--responses", f"{t}/bad.json"], 2, "not valid JSON"),
    (lambda wb, t: ["fill", wb, "--responses", f"{t}/unknown.json"], 2, "unknown prompt id"),
    (lambda wb, t: ["fill", wb, "--responses", f"{t}/wrongtype.json"], 2, "'mood'"),
    (lambda wb, t: ["fill", wb, "--responses", f"{t}/list.json"], 2, "JSON object"),
    (lambda wb, t: ["finalize", f"{t}/truncated.ipynb"], 2, "truncated"),
    (lambda wb, t: ["prompts", f"{t}/plain.ipynb"], 2, "not a supervision-kit workbook"),
    (lambda wb, t: ["templates", "check", f"{t}/nowhere"], 2, "not found"),
]


@pytest.mark.parametrize("build, exit_code, message", BAD)
def test_bad_input_is_one_clean_line_and_changes_nothing(tmp_path, wb, build, exit_code,
                                                         message):
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "unknown.json").write_text('{"nope": 1}')
    (tmp_path / "wrongtype.json").write_text('{"mood": "five"}')
    (tmp_path / "list.json").write_text("[1]")
    (tmp_path / "truncated.ipynb").write_text('{"cells": [{"cell_type": "code"')
    (tmp_path / "plain.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4}')
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    code, out, err = run_cli(*build(wb, tmp_path))
    assert code == exit_code, err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before


def test_debug_shows_the_traceback(tmp_path):
    code, _, err = run_cli("--debug", "responses", tmp_path / "missing.ipynb")
    assert code != 0 and "Traceback" in err


def test_templates_check_and_list():
    code, out, _ = run_cli("templates", "check")
    assert code == 0 and "ok  session" in out
    code, out, _ = run_cli("templates")
    assert code == 0 and "process_recording" in out
