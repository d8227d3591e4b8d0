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
    made += build_placement(root)  # the placement student (templates/demo/placement.yaml)
    # the progress review of the long case, executed so its charts are in the notebook
    from ..progress.report import make_progress

    last = data["cases"]["demo-01"]["sessions"][-1]["date"]
    review = make_progress("demo-01", store=root, date=last)["notebook"]
    if review is not None:
        made.append(review)
    (root / MARKER).write_text("demo store: fictional cases only\n")
    return made


def _placement_hint(root: Path) -> None:
    """How to see the placement student's numbers (hours and evidence)."""
    import shlex

    import yaml

    data = yaml.safe_load((templates_dir() / "demo" / "placement.yaml")
                          .read_text(encoding="utf-8"))
    who, store = shlex.quote(data["student"]), shlex.quote(str(root))
    print(f"placement demo: supervision-kit hours --worker {who} --store {store} "
          f"--requirement {data['requirement']}")
    print(f"                supervision-kit evidence --worker {who} --store {store}")


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


# ---------------------------------------------------------------- the placement student


def build_placement(root: Path) -> list[Path]:
    """The placement student's records (see templates/demo/placement.yaml): made, answered,
    tagged, reviewed, signed and finalized through the public API, oldest first."""
    import yaml

    from ..core.workbook import load_notebook, prompt_index
    from ..generate.render import new_workbook
    from ..placements import review as R
    from ..record.fill import fill
    from ..record.finalize import finalize
    from ..signoff import sign

    data = yaml.safe_load((templates_dir() / "demo" / "placement.yaml")
                          .read_text(encoding="utf-8"))
    who = {"worker": data["student"], "supervisor": data["educator"]}
    made: list[Path] = []

    def new(template: str, date: str, cases: list[str], **kw: Any) -> tuple[Path, dict]:
        path = new_workbook(**who, date=date, template=template, store=root, cases=cases, **kw)
        made.append(path)
        return path, prompt_index(load_notebook(path))

    def close(path: Path, spec: dict[str, Any]) -> None:
        if spec.get("signed"):
            sign(path, "worker", data["student"])
            sign(path, "supervisor", data["educator"])
        if spec.get("signed") or spec.get("finalize"):
            finalize(path)

    def tags(path: Path, prompts: dict[str, dict[str, Any]], spec: dict[str, Any]) -> None:
        for t in spec.get("tags", []):
            pid = _case_prompt(prompts, t["prompt"], t.get("case"))
            role = t.get("role", "worker")
            R.tag(path, pid, t["competencies"], role=role, text=t.get("note"),
                  name=data["educator"] if role == "supervisor" else data["student"])

    la, _ = new("learning_agreement", data["agreement"]["date"], [],
                params={"framework": data["framework"]})
    fill(la, data["agreement"]["answers"])
    close(la, {"signed": True})
    for s in data["sessions"]:
        path, prompts = new("placement_supervision", s["date"], s.get("cases", []))
        answers = dict(s.get("answers", {}))
        answers |= {pid: s["mode"] for pid, p in prompts.items() if p.get("supervision_mode")}
        answers |= {pid: s["minutes"] for pid, p in prompts.items()
                    if p.get("duration") == "minutes"}
        for case, given in (s.get("case") or {}).items():
            answers |= {_case_prompt(prompts, k, case): v for k, v in given.items()}
        if s.get("actions"):
            answers |= {pid: s["actions"] for pid, p in prompts.items() if p.get("carry")}
        fill(path, {k: v for k, v in answers.items() if k in prompts})
        tags(path, prompts, s)
        close(path, s)
    for pr in data.get("process_recordings", []):
        path, prompts = new("process_recording", pr["date"], [pr["case"]])
        fill(path, {k: v for k, v in pr["answers"].items() if k in prompts})
        tags(path, prompts, {"tags": [t for t in pr.get("tags", []) if t["prompt"] in prompts]})
        close(path, {"finalize": True})
    for ob in data.get("observations", []):
        path, prompts = new("observation", ob["date"], [ob["case"]])
        fill(path, ob["answers"])
        for step in ob.get("review", []):
            if "submit" in step:
                R.submit(path, text=step["submit"])
            elif "return" in step:
                R.return_for_revision(path, step["return"])
            elif "comment" in step:
                R.comment(path, step["comment"], step["text"])
            elif "answers" in step:
                fill(path, step["answers"])
        tags(path, prompts, ob)
        close(path, ob)
    for key in ("midpoint", "final"):
        ev = data.get(key)
        if not ev:
            continue
        path, prompts = new(f"{key}_evaluation", ev["date"], [],
                            params={"tutor": data["tutor"]})
        fill(path, {**ev.get("answers", {}), **_ratings(prompts, ev, data["framework"])})
        if ev.get("submit"):
            R.submit(path, text=ev["submit"])
        if ev.get("signed"):
            sign(path, "worker", data["student"])
            sign(path, "supervisor", data["educator"])
            if ev.get("countersign"):
                R.countersign(path, data["tutor"], ev["countersign"])
            finalize(path)  # after the countersignature, so the file holds it too
    return made


def _case_prompt(prompts: dict[str, dict[str, Any]], base: str, case: str | None) -> str:
    """The id of prompt ``base`` in the block of ``case`` (a session about several cases
    repeats its case prompts per case), or ``base`` itself."""
    if case is None:
        return base
    return next((pid for pid, p in prompts.items()
                 if p.get("case") == case and pid.split("__")[0] == base), base)


def _ratings(prompts: dict[str, dict[str, Any]], ev: dict[str, Any],
             framework: str) -> dict[str, Any]:
    """Level ratings (and their evidence notes) found by annotation: the prompt about the
    competency (``competency``) that rates it (``level_rating``: self or supervisor)."""
    out: dict[str, Any] = {}
    notes = ev.get("notes", {})
    for cid, (mine, theirs) in (ev.get("ratings") or {}).items():
        for rater, value, note in (("self", mine, notes.get("student")),
                                   ("supervisor", theirs, notes.get("educator"))):
            if value is None:
                continue
            for pid, p in prompts.items():
                if p.get("competency") == f"{framework}:{cid}" and p.get("level_rating") == rater:
                    out[pid] = value
                    if note and p.get("evidence"):
                        out[p["evidence"]] = note
    return out


def run_demo(store: str = "workbooks/demo", *, lab: bool = True, browser: bool = True,
             port: int = 8888, reset: bool = False) -> Path:
    """Build the demo store and (unless ``lab`` is False) start JupyterLab on its newest
    open workbook. Returns that workbook's path."""
    made = build_demo_store(store, reset=reset)
    root = Path(store)
    from ..core.workbook import META, load_notebook

    in_progress = [p for p in made if "finalized" not in load_notebook(p)["metadata"][META]
                   and p.name.endswith("-session.ipynb")]
    newest = max(in_progress or made, key=lambda p: p.name)
    print(f"demo store: {root.resolve()} ({len(made)} workbooks, fictional cases)")
    _placement_hint(root)
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
