"""A plain (non-editable) wheel install generates workbooks from any folder."""

import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.timeout(300)


def test_wheel_ships_templates_and_works_from_any_folder(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(wheels), str(ROOT)],
                   check=True, timeout=240, cwd=tmp_path)
    wheel = next(wheels.glob("supervision_kit-*.whl"))
    # The package comes from the wheel, installed into its own folder; its dependencies from
    # whichever environment runs the tests (a fresh venv, or the system Python in CI), so the
    # test never assumes where those live.
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(wheel)], check=True, timeout=240)
    env = {**os.environ, "PYTHONPATH": str(target)}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [sys.executable, "-c", "import supervision_kit, sys; print(supervision_kit.__file__)"],
        capture_output=True, text=True, cwd=elsewhere, check=True, env=env).stdout
    assert str(target) in where, where
    kit = [sys.executable, "-m", "supervision_kit"]
    out = subprocess.run(
        [*kit, "new", "--worker", "W", "--supervisor", "S",
         "--case", "pkg-01", "--date", "2026-01-02", "--template", "process_recording"],
        capture_output=True, text=True, cwd=elsewhere, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert (elsewhere / "workbooks" / "pkg-01" / "2026-01-02-process_recording.ipynb").is_file()
    check = subprocess.run([*kit, "templates", "check"],
                           capture_output=True, text=True, cwd=elsewhere, timeout=120, env=env)
    assert check.returncode == 0 and "ok  workshop" in check.stdout, check.stderr
    script = subprocess.run([str(target / "bin" / "supervision-kit"), "--version"],
                            capture_output=True, text=True, cwd=elsewhere, timeout=60, env=env)
    assert script.returncode == 0 and "supervision-kit" in script.stdout, script.stderr
