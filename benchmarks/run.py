"""Foundation benchmarks (issue: generate + capture). Every number is a ratio or difference
against a baseline measured in the same run on the same machine.

    python benchmarks/run.py [--repeat N]

Goals: `new` <= 1.2x papermill executing a plain pandas+matplotlib notebook;
`import supervision_kit` <= +150 ms over `python -c pass`; `--help` <= +350 ms and
`responses NB` <= +600 ms over `python -c pass`; keystroke -> journal median < 0.4 s, max < 1 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
KIT = [PY, "-m", "supervision_kit"]


def timed(cmd: list[str], repeat: int, cwd: Path | None = None) -> float:
    """Median wall time of a command, in seconds."""
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=cwd)
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def plain_notebook(folder: Path) -> Path:
    import nbformat.v4 as v4

    nb = v4.new_notebook(cells=[v4.new_code_cell(
        "import pandas as pd\nimport matplotlib\nmatplotlib.use('Agg')\n"
        "import matplotlib.pyplot as plt\n"
        "df = pd.DataFrame({'x': range(10), 'y': range(10)})\n"
        "df.plot(x='x', y='y').figure.savefig('chart.png')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = folder / "plain.ipynb"
    path.write_text(v4.writes(nb) if hasattr(v4, "writes") else __import__("nbformat").writes(nb))
    return path


def keystroke_latency(folder: Path, edits: int = 25) -> list[float]:
    """Seconds from the last 'keystroke' of a burst until the answer is on disk."""
    from supervision_kit.core.journal import DebouncedWriter, read_journal

    path = folder / "lat.journal.jsonl"
    writer = DebouncedWriter(path)
    out = []
    for n in range(edits):
        for k in range(5):  # a short burst of typing, 30 ms between keys
            if k:
                time.sleep(0.03)
            writer.put("story", f"edit {n} key {k}")
        last = time.perf_counter()
        while read_journal(path).answers().get("story", {}).get("v") != f"edit {n} key 4":
            time.sleep(0.002)
        out.append(time.perf_counter() - last)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base = timed([PY, "-c", "pass"], a.repeat)
        imp = timed([PY, "-c", "import supervision_kit"], a.repeat)
        helpt = timed([*KIT, "--help"], a.repeat)
        n = iter(range(10_000))
        new_cmd = lambda: [*KIT, "new", "--worker", "W", "--supervisor", "S",  # noqa: E731
                           "--case", f"bench-{next(n)}", "--store", str(tmp / "store")]
        new_runs = []
        for _ in range(a.repeat):
            t = time.perf_counter()
            out = subprocess.run(new_cmd(), check=True, capture_output=True, text=True)
            new_runs.append(time.perf_counter() - t)
        nb = out.stdout.strip().splitlines()[-1]
        subprocess.run([*KIT, "fill", nb, "--responses", "-"], check=True, capture_output=True,
                       input=json.dumps({"refl_description": "x" * 2000, "session_rating": 7}),
                       text=True)
        resp = timed([*KIT, "responses", nb], a.repeat)
        plain = plain_notebook(tmp)
        pm = timed([PY, "-m", "papermill", "--no-progress-bar", str(plain),
                    str(tmp / "plain-out.ipynb")], a.repeat, cwd=tmp)
        lat = keystroke_latency(tmp)
    new = statistics.median(new_runs)
    rows += [
        ("new vs papermill plain notebook", f"{new:.2f}s vs {pm:.2f}s", f"{new / pm:.2f}x",
         new / pm <= 1.2),
        ("import supervision_kit", f"+{(imp - base) * 1000:.0f} ms", "", imp - base <= 0.150),
        ("supervision-kit --help", f"+{(helpt - base) * 1000:.0f} ms", "", helpt - base <= 0.350),
        ("supervision-kit responses NB", f"+{(resp - base) * 1000:.0f} ms", "",
         resp - base <= 0.600),
        ("keystroke -> journal (median)", f"{statistics.median(lat) * 1000:.0f} ms", "",
         statistics.median(lat) < 0.4),
        ("keystroke -> journal (max)", f"{max(lat) * 1000:.0f} ms", "", max(lat) < 1.0),
    ]
    print(f"baseline: python -c pass = {base * 1000:.0f} ms (median of {a.repeat})")
    for name, value, ratio, ok in rows:
        print(f"{'PASS' if ok else 'MISS'}  {name:<34} {value:<22} {ratio}")
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
