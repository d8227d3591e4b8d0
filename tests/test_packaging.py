"""A plain (non-editable) wheel install generates workbooks from any folder."""

import subprocess
import sys
import venv

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.timeout(300)


def test_wheel_ships_templates_and_works_from_any_folder(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(wheels), str(ROOT)],
                   check=True, timeout=240, cwd=tmp_path)
    wheel = next(wheels.glob("supervision_kit-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    py = env_dir / "bin" / "python"
    # dependencies come from the system site-packages; the package itself from the wheel
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--quiet",
                    "--no-deps", str(wheel)], check=True, timeout=240)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [str(py), "-c", "import supervision_kit, sys; print(supervision_kit.__file__)"],
        capture_output=True, text=True, cwd=elsewhere, check=True).stdout
    assert str(env_dir) in where, where
    out = subprocess.run(
        [str(env_dir / "bin" / "supervision-kit"), "new", "--worker", "W", "--supervisor", "S",
         "--case", "pkg-01", "--date", "2026-01-02", "--template", "process_recording"],
        capture_output=True, text=True, cwd=elsewhere, timeout=120)
    assert out.returncode == 0, out.stderr
    assert (elsewhere / "workbooks" / "pkg-01" / "2026-01-02-process_recording.ipynb").is_file()
    check = subprocess.run([str(env_dir / "bin" / "supervision-kit"), "templates", "check"],
                           capture_output=True, text=True, cwd=elsewhere, timeout=120)
    assert check.returncode == 0 and "ok  workshop" in check.stdout, check.stderr
