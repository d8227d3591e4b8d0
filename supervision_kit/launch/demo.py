"""``supervision-kit demo``: build a store of fictional cases, then open JupyterLab on it.

The content is data (templates/demo/demo.yaml); this module turns it into workbooks through
the public API (new_workbook -> fill -> finalize), exactly as a user's sessions are made.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from ..core.errors import ConflictError
from ..core.prompts import templates_dir

MARKER = ".supervision-kit-demo"


def build_demo_store(store: str | os.PathLike[str], *, reset: bool = False) -> list[Path]:
    """Create the demo store (idempotent unless ``reset``); return its workbooks, oldest first."""
    import yaml

    from ..core.workbook import load_notebook, prompt_index
    from ..generate.render import new_workbook
    from ..record.fill import fill
    from ..record.finalize import finalize

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
            fill(path, _answers(s, prompts, data))
            if not s.get("open"):
                finalize(path)
            made.append(path)
    # the progress review of the long case, executed so its charts are in the notebook
    from ..progress.report import make_progress

    last = data["cases"]["demo-01"]["sessions"][-1]["date"]
    made.append(make_progress("demo-01", store=root, date=last)["notebook"])
    (root / MARKER).write_text("demo store: fictional cases only\n")
    return made


def _matches(prompt: dict[str, Any], want: dict[str, Any]) -> bool:
    return all(prompt.get(k) == v if not isinstance(v, dict)
               else isinstance(prompt.get(k), dict)
               and all(prompt[k].get(kk) == vv for kk, vv in v.items())
               for k, v in want.items())


def _answers(s: dict[str, Any], prompts: dict[str, dict[str, Any]],
             data: dict[str, Any]) -> dict[str, Any]:
    """Turn one session's compact demo spec into {prompt_id: value}, through the ``fields``
    table of demo.yaml (annotations, or prompt ids named in the data)."""
    a: dict[str, Any] = dict(s.get("text", {}))
    fields = data["fields"]
    for key, how in fields.items():
        if key not in s:
            continue
        value = s[key]
        if "rates" in how:  # a list (one per rated item, in order) or one value for all
            rated = [pid for pid, p in prompts.items() if _matches(p, {"rates": how["rates"]})]
            if "only" in how:  # only the items picked (by index) under another key
                picks = s.get(how["only"], [])
                rated = [rated[i] for i in picks if i < len(rated)]
                value = [value] * len(rated)
            for pid, v in zip(rated, value if isinstance(value, list) else [], strict=False):
                a[pid] = v
        elif "annotation" in how:
            for pid, p in prompts.items():
                if _matches(p, how["annotation"]):
                    a[pid] = value
        elif "carry" in how:
            for pid, p in prompts.items():
                if (p.get("carry") or {}).get("as") == how["carry"]:
                    a[pid] = [dict(row, **how.get("add", {})) for row in value]
        elif "prompt" in how and how["prompt"] in prompts:
            pid = how["prompt"]
            a[pid] = ([prompts[pid]["options"][i] for i in value] if how.get("pick") == "options"
                      else value)
    if "outcome_score" in s:
        for pid, p in prompts.items():
            if p.get("outcome") == "name":
                a[pid] = data["outcome_name"]
    if "dilemma" in s:
        for pid in data.get("first_option_with_dilemma", []):
            if pid in prompts:
                a[pid] = prompts[pid]["options"][0]
    # review prompts made from the previous session: mark items, score goals
    goals = s.get("goals", [])
    scores = [g["attainment"] for g in goals] or s.get("goal_scores", [])
    n_goal = n_item = 0
    for pid, p in prompts.items():
        carried = p.get("carried")
        if not isinstance(carried, dict):
            continue
        if carried.get("review") == "gas":
            a[pid] = scores[n_goal] if n_goal < len(scores) else 0
            n_goal += 1
        else:
            a[pid] = "Partly done" if n_item == 0 and not s.get("open") else "Done"
            n_item += 1
    return {k: v for k, v in a.items() if k in prompts}


def run_demo(store: str = "workbooks/demo", *, lab: bool = True, browser: bool = True,
             port: int = 8888, reset: bool = False) -> Path:
    """Build the demo store and (unless ``lab`` is False) start JupyterLab on its newest
    open workbook, set up as ``supervision-kit open`` does (launch/lab.py). Returns that
    workbook's path."""
    made = build_demo_store(store, reset=reset)
    root = Path(store)
    from ..core.workbook import META, load_notebook

    in_progress = [p for p in made if "finalized" not in load_notebook(p)["metadata"][META]
                   and p.name.endswith("-session.ipynb")]
    newest = max(in_progress or made, key=lambda p: p.name)
    print(f"demo store: {root.resolve()} ({len(made)} workbooks, fictional cases)")
    print(newest)
    if not lab:
        return newest
    from .lab import run_lab

    run_lab(newest, root=root, port=port, browser=browser)  # JupyterLab takes over
    return newest  # not reached
