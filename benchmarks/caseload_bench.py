"""Caseload benchmark (issue 16): a programme of 200 workers x 30 sessions (6,000 workbooks).

    python benchmarks/caseload_bench.py [--n 6000] [--dir DIR] [--keep] [--repeat 3]

Makes N synthetic session workbooks (the real ``session`` template, fictional answers in each
journal as in an open workbook; older sessions signed by both, the latest two per worker not;
30 sessions per worker, spread over 5 cases and 10 supervisors), then times, with the OS file
cache warm:

- floor: ``json.load`` of every .ipynb plus ``json.loads`` of every journal line (the same
  files the caseload reads, with no extraction at all)
- cold: ``load_caseload`` with no cache (reads every record by the core's read rule,
  summarises it, builds the rows, writes the cache)
- warm: ``load_caseload`` again with nothing changed (folder scan + cache + rows)
- one changed: a journal gains an answer, then ``load_caseload``

floor, cold and warm run in turn --repeat rounds (best of each kept). Targets: warm <= 0.3 s
(wall), cold <= 1.5x floor, as the best CPU times of this process (on a shared machine the
wall-clock ratio mostly measures the neighbours; every round's ratio and the wall times are
printed). Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SESSIONS_PER_WORKER = 30
CASES_PER_WORKER = 5
SUPERVISORS = 10
TOKENS = {"worker": "Bench Worker Token", "supervisor": "Bench Lead Token",
          "case": "bench-case-token", "date": "2025-01-01", "wuser": "benchwtoken",
          "suser": "benchstoken"}
TEXT = ("the visit went calmly and we talked about the week at school and agreed to try a "
        "shorter morning routine and check in by phone on thursday")
WORDS = TEXT.split(" ")


def _text(rng: random.Random, lo: int, hi: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi))).capitalize() + "."


def base_workbook(folder: Path) -> tuple[str, str, dict]:
    """One real session workbook made through the API: (its JSON text, id, prompt index)."""
    from supervision_kit.core.workbook import load_notebook, prompt_index
    from supervision_kit.generate.render import new_workbook
    from supervision_kit.signoff.identity import accounts

    path = new_workbook(case_id=TOKENS["case"], worker=TOKENS["worker"],
                        supervisor=TOKENS["supervisor"], date=TOKENS["date"],
                        template="session", store=folder,
                        accounts=accounts(TOKENS["wuser"], TOKENS["suser"]))
    nb = load_notebook(path)
    return path.read_text(encoding="utf-8"), nb["metadata"]["supervision_kit"]["workbook"][
        "id"], prompt_index(nb)


def answers(rng: random.Random, prompts: dict, date: str) -> dict:
    """Fictional answers: the required prompts, the length, actions with due dates, text."""
    out = {}
    for pid, p in prompts.items():
        if p.get("duration") == "minutes":
            out[pid] = rng.choice([45, 60, 75, 90, 90, 120])
        elif (p.get("carry") or {}).get("review") == "status":
            cols = [c["id"] for c in p["columns"]]
            text, ctx = p["carry"]["text"], p["carry"].get("context", [])
            rows = []
            for _ in range(rng.randint(1, 3)):
                row = {c: _text(rng, 2, 6) for c in cols}
                row[text] = _text(rng, 3, 8)
                if len(ctx) > 1:
                    row[ctx[1]] = date[:8] + f"{rng.randint(1, 28):02d}"
                rows.append(row)
            out[pid] = rows
        elif p.get("required") or (p["kind"] == "long_text" and rng.random() < 0.15):
            if p["kind"] in ("long_text", "short_text"):
                out[pid] = _text(rng, 8, 30)
            elif p["kind"] in ("choice",) and p.get("options"):
                out[pid] = p["options"][0]
            elif p["kind"] == "scale":
                out[pid] = p["min"]
            elif p["kind"] == "number":
                out[pid] = 1
    return out


def journal_lines(vals: dict, t: str, sign: bool, info: dict) -> list[str]:
    from supervision_kit.core import journal as jr
    from supervision_kit.core.state import answers_digest

    prev, lines = jr.GENESIS, []
    events = [{"id": pid, "v": v, "by": "worker", "src": "widget", "type": "answer", "t": t}
              for pid, v in vals.items()]
    if sign:
        total, per = answers_digest(vals)
        for role, name in (("worker", info["worker"]), ("supervisor", info["supervisor"])):
            events.append({"type": "sign", "role": role, "by": role, "name": name,
                           "workbook_id": info["id"], "template": "session",
                           "template_version": info["version"], "algorithm": "sha256",
                           "answers_sha256": total, "prompts": per,
                           "t": t.replace("T10", "T11")})
    for seq, ev in enumerate(events, 1):
        ev.update(seq=seq, prev=prev)
        ev["h"] = prev = jr.chain_hash(prev, ev)
        lines.append(jr.canonical(ev))
    return lines


def make_programme(root: Path, n: int, seed: int = 1) -> list[Path]:
    import uuid

    from supervision_kit.core.prompts import load_prompt_set
    from supervision_kit.core.store import journal_path

    text, base_id, prompts = base_workbook(root / "_base")
    shutil.rmtree(root / "_base")
    version = load_prompt_set("session").version
    rng = random.Random(seed)
    workers = max(1, n // SESSIONS_PER_WORKER)
    paths = []
    for i in range(n):
        w, k = divmod(i, SESSIONS_PER_WORKER)
        if w >= workers:
            w, k = workers - 1, k + SESSIONS_PER_WORKER
        case = f"w{w:03d}-c{k % CASES_PER_WORKER}"
        day = 2024 * 372 + k * 12  # one session every ~12 days
        date = f"{day // 372}-{1 + day % 372 // 31:02d}-{1 + day % 31 % 28:02d}"
        wid = str(uuid.UUID(int=rng.getrandbits(128)))
        info = {"worker": f"Worker {w:03d}", "supervisor": f"Lead {w % SUPERVISORS:02d}",
                "id": wid, "version": version}
        nb = (text.replace(base_id, wid).replace(TOKENS["worker"], info["worker"])
              .replace(TOKENS["supervisor"], info["supervisor"])
              .replace(TOKENS["case"], case).replace(TOKENS["date"], date)
              .replace(TOKENS["wuser"], f"w{w:03d}").replace(TOKENS["suser"],
                                                             f"lead{w % SUPERVISORS:02d}"))
        path = root / f"w{w:03d}" / case / f"{date}-session.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(nb, encoding="utf-8")
        vals = answers(rng, prompts, date)
        signed = k < SESSIONS_PER_WORKER - 2
        journal_path(path).write_text(
            "\n".join(journal_lines(vals, f"{date}T10:00:00.000000Z", signed, info)) + "\n",
            encoding="utf-8")
        paths.append(path)
    return paths


def floor(paths: list[Path]) -> int:
    from supervision_kit.core.store import journal_path

    n = 0
    for p in paths:
        with open(p, encoding="utf-8") as fh:
            n += len(json.load(fh)["cells"])
        with open(journal_path(p), "rb") as fh:
            for line in fh:
                if line.strip():
                    n += len(json.loads(line))
    return n


def timed(fn) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of this process, result)."""
    w, c = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - w, time.process_time() - c, result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=6000,
                    help="number of workbooks, 30 per worker (default 6000 = 200 workers)")
    ap.add_argument("--dir", help="build the programme here (default: a temp folder)")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--repeat", type=int, default=5, help="rounds of measurements")
    a = ap.parse_args(argv)

    tmp = Path(a.dir or tempfile.mkdtemp(prefix="sk-caseload-bench-"))
    root, cache = tmp / "store", tmp / "cache"
    os.environ["SUPERVISION_KIT_CACHE"] = str(cache)
    from supervision_kit.caseload.api import load_caseload
    from supervision_kit.record import fill

    try:
        t, _c, paths = timed(lambda: make_programme(root, a.n))
        size = sum(p.stat().st_size for p in paths) / len(paths) / 1024
        print(f"generated {len(paths)} session workbooks ({len(paths) // SESSIONS_PER_WORKER} "
              f"workers), mean {size:.0f} KB, in {t:.1f} s")
        for p in paths:  # warm the OS file cache for every reader alike
            p.read_bytes()
        today = "2026-06-01"

        def cold():
            shutil.rmtree(cache, ignore_errors=True)
            return load_caseload([root], today=today)

        def warm():
            return load_caseload([root], today=today)

        wall = {"floor": float("inf"), "cold": float("inf"), "warm": float("inf")}
        cpu = dict(wall)
        results = {}
        ratios = []
        for _ in range(a.repeat):  # in turn, so a slow spell hits every side alike
            this = {}
            for name, fn in (("floor", lambda: floor(paths)), ("cold", cold), ("warm", warm)):
                w, this[name], results[name] = timed(fn)
                wall[name], cpu[name] = min(wall[name], w), min(cpu[name], this[name])
            ratios.append(this["cold"] / this["floor"])
        cl_cold, cl_warm = results["cold"], results["warm"]
        assert cl_cold.rows == cl_warm.rows and not cl_warm.skipped, "warm read differs"
        fill(paths[SESSIONS_PER_WORKER - 1], {"worker_agenda": "One more thing."})  # unsigned
        w_one, c_one, _ = timed(warm)
        rows = cl_warm.rows
        print(f"supervisees: {len(rows)}; with actions past due: "
              f"{sum(r['actions_past_due'] > 0 for r in rows)}; records not signed: "
              f"{sum(r['unsigned'] for r in rows)}")
        print("                                          wall s    CPU s")
        for label, key in (("floor (json.load .ipynb + journal lines)", "floor"),
                           ("caseload cold (no cache)                ", "cold"),
                           ("caseload warm (nothing changed)         ", "warm")):
            print(f"{label} {wall[key]:8.3f} {cpu[key]:8.3f}")
        print(f"caseload after one journal changed       {w_one:8.3f} {c_one:8.3f}")
        # the ratio is taken on this process's CPU time: on a shared machine wall time
        # mostly measures the neighbours (both sides are single-threaded reads of the same
        # cached files); the warm target is the wall time a person waits
        # the best time of each side (the least disturbed by the neighbours); each round's own
        # ratio is printed too
        ratio = cpu["cold"] / cpu["floor"]
        print(f"cold/floor per round (CPU): {', '.join(f'{r:.2f}' for r in ratios)}")
        goals = [
            (f"warm refresh {wall['warm']:.3f} s wall (goal <= 0.3 s)", wall["warm"] <= 0.3),
            (f"cold / floor = {ratio:.2f} CPU, {wall['cold'] / wall['floor']:.2f} wall "
             "(goal <= 1.5 CPU)", ratio <= 1.5),
        ]
        for text, ok in goals:
            print(("PASS " if ok else "MISS ") + text)
        return 0 if all(ok for _t, ok in goals) else 1
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}")


if __name__ == "__main__":
    sys.exit(main())
