"""Workshop generation for 30 participants: one shared render + copies vs one papermill run each.

    python benchmarks/workshop_bench.py [--participants 30] [--baseline-runs 30]

Candidate: ``supervision-kit workshop generate --participants N`` as a CLI process (wall time,
including interpreter start and imports), plus the in-process time the command reports.
Baseline: N sequential ``papermill IN OUT -p case_id Pnn -p workbook_file ...`` CLI runs that
EXECUTE the workshop workbook (a kernel per participant: the naive approach). With
``--baseline-runs k < N`` only k runs are timed and the total is extrapolated (k/N shown).
Both are measured in the same run on the same machine; the ratio is what matters.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VIGNETTE = "the-quiet-room"


def _bin(name: str) -> str:
    exe = Path(sys.executable).parent / name
    return str(exe) if exe.exists() else (shutil.which(name) or name)


def candidate(tmp: Path, n: int) -> tuple[float, float]:
    out = tmp / "generated"
    t0 = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "supervision_kit", "workshop", "generate",
                          "--vignette", VIGNETTE, "--participants", str(n), "--out", str(out)],
                         capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    inner = float(re.search(r"\(([\d.]+) s\)", run.stdout).group(1))
    assert len(list(out.glob("*-workshop.ipynb"))) == n
    return wall, inner


def baseline(tmp: Path, n: int, runs: int) -> float:
    """Time ``runs`` papermill CLI executions; return the (extrapolated) total for ``n``."""
    src = tmp / "source"
    subprocess.run([sys.executable, "-m", "supervision_kit", "workshop", "generate",
                    "--vignette", VIGNETTE, "--participants", "1", "--out", str(src)],
                   capture_output=True, check=True)
    tpl = src / "P01-workshop.ipynb"
    out = tmp / "papermill"
    out.mkdir()
    papermill = _bin("papermill")
    t0 = time.perf_counter()
    for i in range(1, runs + 1):
        code = f"P{i:02d}"
        subprocess.run([papermill, str(tpl), str(out / f"{code}-workshop.ipynb"),
                        "-p", "case_id", code, "-p", "workbook_file", tpl.name,
                        "--cwd", str(src), "-k", "python3", "--log-level", "ERROR"],
                       capture_output=True, check=True)
    return (time.perf_counter() - t0) * n / runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--participants", type=int, default=30)
    ap.add_argument("--baseline-runs", type=int, default=None,
                    help="papermill runs to time (default: all; fewer = extrapolated)")
    a = ap.parse_args()
    n = a.participants
    runs = min(a.baseline_runs or n, n)
    with tempfile.TemporaryDirectory(prefix="sk-bench-") as d:
        tmp = Path(d)
        os.environ.setdefault("JUPYTER_DATA_DIR", str(tmp / "jupyter-data"))
        wall, inner = candidate(tmp, n)
        base = baseline(tmp, n, runs)
    note = "" if runs == n else f" (extrapolated from {runs} runs)"
    print(f"participants:                        {n}")
    print(f"workshop generate (CLI, wall):       {wall:7.2f} s")
    print(f"workshop generate (in-process):      {inner:7.2f} s")
    print(f"{n} sequential papermill CLI runs:    {base:7.2f} s{note}")
    print(f"ratio papermill / generate (wall):   {base / wall:7.1f}x")
    print(f"ratio papermill / generate (inner):  {base / inner:7.1f}x")


if __name__ == "__main__":
    main()
