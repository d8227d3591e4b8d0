"""``supervision-kit demo``: build a store of fictional cases, then open JupyterLab on it.

The content is data (templates/demo/demo.yaml); this module turns it into workbooks through
the public API (new_workbook -> fill -> finalize), exactly as a user's sessions are made.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from .errors import ConflictError
from .prompts import templates_dir

MARKER = ".supervision-kit-demo"
COMPONENTS = ["active_listening", "trust_building", "empathy", "respect", "collaboration"]
METHODS = ["relationship", "assessment", "planning", "evidence_based", "strengths", "cultural",
           "interdisciplinary", "technology", "ethics", "evaluation"]


def build_demo_store(store: str | os.PathLike[str], *, reset: bool = False) -> list[Path]:
    """Create the demo store (idempotent unless ``reset``); return its workbooks, oldest first."""
    import yaml

    from .generate import new_workbook
    from .record import fill, finalize, load_notebook, prompt_index

    root = Path(store)
    if root.exists() and any(root.iterdir()):
        if not (root / MARKER).exists():
            raise ConflictError(f"{root} exists and is not a demo store; choose another --store")
        if not reset:
            return sorted(root.glob("*/*.ipynb"), key=lambda p: p.name)
        shutil.rmtree(root)
    data = yaml.safe_load((templates_dir() / "demo" / "demo.yaml").read_text(encoding="utf-8"))
    made = []
    for case, spec in data["cases"].items():
        for s in spec["sessions"]:
            path = new_workbook(case_id=case, worker=data["worker"], supervisor=data["supervisor"],
                                date=s["date"], focus=s.get("focus", ""),
                                template=s.get("template", "session"), store=root)
            prompts = prompt_index(load_notebook(path))
            fill(path, _answers(s, prompts))
            if not s.get("open"):
                finalize(path)
            made.append(path)
    # the progress review of the long case, executed so its charts are in the notebook
    from .progress_report import make_progress

    last = data["cases"]["demo-01"]["sessions"][-1]["date"]
    made.append(make_progress("demo-01", store=root, date=last)["notebook"])
    (root / MARKER).write_text("demo store: fictional cases only\n")
    return made


def _answers(s: dict[str, Any], prompts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Turn one session's compact demo spec into {prompt_id: value}."""
    a: dict[str, Any] = dict(s.get("text", {}))
    for key, suffix in (("rating", "_rating"), ("rating_sup", "_rating_sup")):
        for comp, value in zip(COMPONENTS, s.get(key, []), strict=False):
            a[f"cc_{comp}{suffix}"] = value
    if "methods" in s:
        options = prompts["cw_methods_used"]["options"]
        a["cw_methods_used"] = [options[i] for i in s["methods"]]
        for i in s["methods"]:
            a[f"cw_{METHODS[i]}_rating"] = s["method_rating"]
    for key in ("session_rating", "outcome_score", "duration_minutes"):
        if key in s:
            a[key] = s[key]
    if "outcome_score" in s:
        a["outcome_measure"] = "Family wellbeing checklist (fictional, 0-30)"
    if "dilemma" in s:
        a["eth_dilemma"] = s["dilemma"]
        for check in ("eth_consent", "eth_confidentiality", "eth_autonomy", "eth_data_use"):
            a[check] = prompts[check]["options"][0]
    if "goals" in s:
        a["goals"] = [dict(g, weight=1) for g in s["goals"]]
    if "actions" in s:
        a["actions"] = s["actions"]
    for key, pid in (("exchanges", "pr_exchanges"), ("options_table", "eth_options"),
                     ("principles_table", "eth_principles")):
        if key in s:
            a[pid] = s[key]
    # carry-forward prompts made from the previous session: mark actions, score goals
    goals = s.get("goals", [])
    for pid in prompts:
        if pid.startswith("cf_action_"):
            a[pid] = "Done" if pid != "cf_action_1_status" or s.get("open") else "Partly done"
        elif pid.startswith("cf_goal_"):
            n = int(pid.split("_")[2]) - 1
            scores = [g["attainment"] for g in goals] or s.get("goal_scores", [])
            a[pid] = scores[n] if n < len(scores) else 0
    return {k: v for k, v in a.items() if k in prompts}


def run_demo(store: str = "workbooks/demo", *, lab: bool = True, browser: bool = True,
             port: int = 8888, reset: bool = False) -> Path:
    """Build the demo store and (unless ``lab`` is False) start JupyterLab on its newest
    open workbook. Returns that workbook's path."""
    made = build_demo_store(store, reset=reset)
    root = Path(store)
    from .record import META, load_notebook

    in_progress = [p for p in made if "finalized" not in load_notebook(p)["metadata"][META]
                   and p.name.endswith("-session.ipynb")]
    newest = max(in_progress or made, key=lambda p: p.name)
    print(f"demo store: {root.resolve()} ({len(made)} workbooks, fictional cases)")
    print(newest)
    if not lab:
        return newest
    import secrets
    from urllib.parse import quote

    token = secrets.token_hex(24)
    rel = newest.resolve().relative_to(root.resolve()).as_posix()
    args = [sys.executable, "-m", "jupyterlab", "--ServerApp.ip=127.0.0.1", f"--port={port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root.resolve()}", rel]
    print(f"open this workbook: http://127.0.0.1:{port}/lab/tree/{quote(rel)}?token={token}")
    print("then choose Run > Run All Cells; stop JupyterLab with Ctrl+C")
    if not browser:
        args.append("--no-browser")
    if os.geteuid() == 0:  # containers and CI machines often run as root
        args.append("--ServerApp.allow_root=True")
    sys.stdout.flush()
    os.chdir(root)
    os.execv(sys.executable, args)  # JupyterLab takes over this process; Ctrl+C stops it
    return newest  # not reached
