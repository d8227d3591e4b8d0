"""``supervision-kit demo``: build a store of fictional records, then open JupyterLab on it.

The content is data (templates/demo/demo.yaml); this module turns it into workbooks through
the public API (new_workbook -> fill -> sign -> finalize), exactly as a user's records are
made. It knows no prompt ids: the YAML names prompts, and its ``fields`` table says how each
compact key of a record finds its prompts:

``{prompt: id}``
    one prompt, by its id in the template (a case block's suffix is added here);
``{prompt: id, opens: {rates: ...}}``
    a multi-choice whose picks open rated prompts (``show_if``): the value maps each option
    to a rating, or to ``[rating, evidence note]``;
``{annotation: {...}}``
    every prompt with those annotations (``outcome``, ``duration`` ...);
``{rates: {...}}``
    rated prompts, the value mapping each ``rates.item`` to a rating or ``[rating, evidence]``
    (the note goes to the prompt named by the rating's ``evidence`` annotation);
``{evidence_of: key}``
    the evidence note(s) of the prompts another key rated (one shared note, or one each);
``{carry: as}``
    the table carried as ``as``: a list of rows, or, with ``library: name``, a mapping from
    keys of ``data[name]`` (per case for case tables) to this session's score (``null`` when
    the row is new); scores also go to the review prompts of the same rows carried in;
``{carried: true}``
    review prompts of items carried in: a mapping ``as -> [value, ...]`` in the order shown.

A session's worker-level answers sit on the record itself; each case's under ``cases``, in
the session's case order, which is also the order of the ``__c1``, ``__c2`` suffixes.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..core.errors import ConflictError

MARKER = ".supervision-kit-demo"
ROLES = ("worker", "supervisor")
Prompts = dict[str, dict[str, Any]]  # base id (no case suffix) -> prompt (its real "id")


def build_demo_store(store: str | os.PathLike[str], *, reset: bool = False) -> list[Path]:
    """Create the demo store (idempotent unless ``reset``); return its workbooks, oldest first."""
    root = Path(store)
    if root.exists() and any(root.iterdir()):
        if not (root / MARKER).exists():
            raise ConflictError(f"{root} exists and is not a demo store; choose another --store")
        if not reset:
            return existing(root)
        shutil.rmtree(root)
    data = load_demo("demo.yaml")
    made = [build_record(root, data, spec) for spec in data["records"]]
    made += build_placement(root)  # the placement student (templates/demo/placement.yaml)
    made.append(progress_review(root, data["progress_review"]))
    (root / MARKER).write_text("demo store: fictional cases only\n")
    return sorted(made, key=_oldest_first)


def existing(root: Path) -> list[Path]:
    return sorted(root.glob("*/*.ipynb"), key=_oldest_first)


def _oldest_first(path: Path) -> tuple[str, str]:
    return path.name, path.parent.name  # names start with the record's date


def load_demo(name: str) -> dict[str, Any]:
    """A demo content file from templates/demo/, with YAML dates read as ISO strings."""
    import yaml

    from ..core.prompts import templates_dir

    text = (templates_dir() / "demo" / name).read_text(encoding="utf-8")
    return _plain(yaml.safe_load(text))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def build_record(root: Path, data: dict[str, Any], spec: dict[str, Any]) -> Path:
    """One record of the demo: generate, answer, and (unless ``open``) sign and finalize."""
    from ..core.workbook import open_record
    from ..generate.render import new_workbook
    from ..record import fill, finalize
    from ..signoff import sign

    cases = list(spec.get("cases") or []) + ([spec["case"]] if "case" in spec else [])
    path = new_workbook(worker=data["worker"], supervisor=data["supervisor"], cases=cases,
                        date=spec["date"], focus=spec.get("focus", ""),
                        template=spec.get("template", "session"), store=root,
                        params=spec.get("params"))
    answers = record_answers(open_record(path).prompts, cases, spec, data)
    fill(path, {pid: v for pid, v in answers.items() if v is not None})
    if not spec.get("open"):
        if spec.get("sign", True):
            for role in ROLES:
                sign(path, role, data[role])
        finalize(path)
    return path


def progress_review(root: Path, spec: dict[str, Any]) -> Path:
    """The progress review of one case, executed so its charts are in the notebook."""
    from ..progress.report import make_progress

    path = make_progress(spec["case"], store=root, date=spec["date"])["notebook"]
    assert path is not None
    return path


# ---------------------------------------------------------------- compact spec -> answers


def record_answers(prompts: dict[str, dict[str, Any]], cases: list[str], spec: dict[str, Any],
                   data: dict[str, Any]) -> dict[str, Any]:
    """``{prompt_id: value}`` for one record: its worker-level block, then each case's."""
    where = f"{spec.get('template', 'session')} of {spec['date']}"
    out = block_answers(by_base_id(prompts, None, cases), spec, data, None, where)
    for case, block in (spec.get("cases") or {}).items():
        out |= block_answers(by_base_id(prompts, case, cases), block or {}, data, case,
                             f"{case} in the {where}")
    return out


def by_base_id(prompts: dict[str, dict[str, Any]], case: str | None, cases: list[str]
               ) -> Prompts:
    """The prompts of one case block (``case``) or of the rest (None), by their template id:
    the generator suffixes a case block's ids with the case's place in the session only when
    the session has two or more cases."""
    from ..generate.expand import SUFFIX

    tail = SUFFIX.format(n=cases.index(case) + 1) if case is not None and len(cases) > 1 else ""
    return {(pid[: -len(tail)] if tail and pid.endswith(tail) else pid): p
            for pid, p in prompts.items() if p.get("case") == case}


def block_answers(pool: Prompts, block: dict[str, Any], data: dict[str, Any],
                  case: str | None, where: str) -> dict[str, Any]:
    ctx = {"data": data, "case": case, "where": where}
    out = {_one(pool, pid, where)["id"]: value
           for pid, value in (block.get("answers") or {}).items()}
    for key, how in data.get("fields", {}).items():
        if key in block:
            kind = next(k for k in FIELD_KINDS if k in how)
            out |= FIELD_KINDS[kind](pool, block[key], how, ctx | {"block": block})
    return out


def _one(pool: Prompts, pid: str, where: str) -> dict[str, Any]:
    if pid not in pool:
        raise KeyError(f"demo content: no prompt {pid!r} in the {where}")
    return pool[pid]


def _placement_hint(root: Path) -> None:
    """How to see the placement student's numbers (hours and evidence)."""
    import shlex

    data = load_demo("placement.yaml")
    who, store = shlex.quote(data["student"]), shlex.quote(str(root))
    print(f"placement demo: supervision-kit hours --worker {who} --store {store} "
          f"--requirement {data['requirement']}")
    print(f"                supervision-kit evidence --worker {who} --store {store}")


def _matches(prompt: dict[str, Any], want: dict[str, Any]) -> bool:
    return all(prompt.get(k) == v if not isinstance(v, dict)
               else isinstance(prompt.get(k), dict)
               and all(prompt[k].get(kk) == vv for kk, vv in v.items())
               for k, v in want.items())


def _rating(value: Any) -> tuple[Any, Any]:
    """``3`` or ``[3, "evidence"]`` -> (rating, evidence or None)."""
    return (value[0], value[1]) if isinstance(value, list) else (value, None)


def _rated(pool: Prompts, want: dict[str, Any], value: dict[str, Any], where: str
           ) -> dict[str, Any]:
    """Ratings (and their evidence notes) of the prompts matching ``want``, by rated item."""
    out: dict[str, Any] = {}
    items = {p["rates"].get("item"): p for p in pool.values() if _matches(p, want)}
    for item, v in value.items():
        if item not in items:
            raise KeyError(f"demo content: nothing rates {item!r} in the {where}")
        rating, note = _rating(v)
        out[items[item]["id"]] = rating
        if note is not None:
            out[_evidence_id(pool, items[item])] = note
    return out


def _evidence_id(pool: Prompts, prompt: dict[str, Any]) -> str:
    ids = {p["id"] for p in pool.values()}
    if prompt.get("evidence") not in ids:
        raise KeyError(f"demo content: {prompt['id']!r} has no evidence note")
    return str(prompt["evidence"])


def field_prompt(pool: Prompts, value: Any, how: dict[str, Any], ctx: dict[str, Any]
                 ) -> dict[str, Any]:
    p = _one(pool, how["prompt"], ctx["where"])
    if "opens" not in how:
        return {p["id"]: value}
    out: dict[str, Any] = {p["id"]: list(value)}
    for option, v in value.items():  # the rated prompt each pick opens
        opened = [q for q in pool.values() if _matches(q, how["opens"])
                  and (q.get("show_if") or {}).get("prompt") == p["id"]
                  and option in (q.get("show_if") or {}).get("in", [])]
        if len(opened) != 1:
            raise KeyError(f"demo content: {option!r} opens no single rating in the "
                           f"{ctx['where']}")
        rating, note = _rating(v)
        out[opened[0]["id"]] = rating
        if note is not None:
            out[_evidence_id(pool, opened[0])] = note
    return out


def field_annotation(pool: Prompts, value: Any, how: dict[str, Any], ctx: dict[str, Any]
                     ) -> dict[str, Any]:
    return {p["id"]: value for p in pool.values() if _matches(p, how["annotation"])}


def field_rates(pool: Prompts, value: Any, how: dict[str, Any], ctx: dict[str, Any]
                ) -> dict[str, Any]:
    return _rated(pool, {"rates": how["rates"]}, value, ctx["where"])


def field_evidence_of(pool: Prompts, value: Any, how: dict[str, Any], ctx: dict[str, Any]
                      ) -> dict[str, Any]:
    rated = ctx["data"]["fields"][how["evidence_of"]]
    notes = dict.fromkeys(_evidence_id(pool, p) for p in pool.values()
                          if _matches(p, {"rates": rated["rates"]}))
    texts = value if isinstance(value, list) else [value] * len(notes)
    return dict(zip(notes, texts, strict=True))


def field_carry(pool: Prompts, value: Any, how: dict[str, Any], ctx: dict[str, Any]
                ) -> dict[str, Any]:
    """A carried table: rows as written, or rows from a library with this session's scores
    (which also score the same rows carried in from the last session)."""
    tables = [p for p in pool.values() if (p.get("carry") or {}).get("as") == how["carry"]]
    if len(tables) != 1:
        raise KeyError(f"demo content: no single table carried as {how['carry']!r} in the "
                       f"{ctx['where']}")
    table, carry = tables[0], tables[0]["carry"]
    if "library" not in how:
        return {table["id"]: [dict(row) for row in value]}
    library = ctx["data"][how["library"]]
    library = library[ctx["case"]] if ctx["case"] is not None else library
    rows = [dict(library[key], **({carry["score"]: score} if score is not None else {}))
            for key, score in value.items()]
    out: dict[str, Any] = {table["id"]: rows}
    scores = {row[carry["text"]]: row.get(carry["score"]) for row in rows}
    for p in _carried_in(pool, how["carry"]):
        text = (p.get("context") or {}).get("item", {}).get(p["carried"].get("text"))
        if scores.get(text) is not None:
            out[p["id"]] = scores[text]
    return out


def field_carried(pool: Prompts, value: Any, how: dict[str, Any], ctx: dict[str, Any]
                  ) -> dict[str, Any]:
    """Review prompts of carried items, by kind (``as``), in the order they are shown."""
    out: dict[str, Any] = {}
    for kind, values in value.items():
        shown = list(_carried_in(pool, kind))
        if len(values) != len(shown):
            raise ValueError(f"demo content: {len(values)} review value(s) for {kind!r} in "
                             f"the {ctx['where']}, but {len(shown)} item(s) are carried in: "
                             + "; ".join(str(p.get("label")) for p in shown))
        out |= {p["id"]: v for p, v in zip(shown, values, strict=True)}
    return out


def _carried_in(pool: Prompts, kind: str) -> Iterator[dict[str, Any]]:
    return (p for p in pool.values() if (p.get("carried") or {}).get("as") == kind)


FieldKind = Callable[[Prompts, Any, dict[str, Any], dict[str, Any]], dict[str, Any]]
FIELD_KINDS: dict[str, FieldKind] = {
    "prompt": field_prompt,
    "annotation": field_annotation,
    "rates": field_rates,
    "evidence_of": field_evidence_of,
    "carry": field_carry,
    "carried": field_carried,
}


# ---------------------------------------------------------------- launching


def newest_open_session(paths: list[Path]) -> Path | None:
    """The newest session record that is not finalized yet (what the demo opens)."""
    from ..core.workbook import META, open_record

    found = []
    for p in paths:
        rec = open_record(p)
        if rec.template.get("kind") == "session" and "finalized" not in rec.nb["metadata"][META]:
            found.append((str(rec.info.get("session_date", "")), p))
    return max(found)[1] if found else None


# ---------------------------------------------------------------- the placement student


def build_placement(root: Path) -> list[Path]:
    """The placement student's records (see templates/demo/placement.yaml): made, answered,
    tagged, reviewed, signed and finalized through the public API, oldest first."""

    from ..core.workbook import load_notebook, prompt_index
    from ..generate.render import new_workbook
    from ..placements import review as R
    from ..record.fill import fill
    from ..record.finalize import finalize
    from ..signoff import sign

    data = load_demo("placement.yaml")
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
    open workbook, set up as ``supervision-kit open`` does (launch/lab.py). Returns that
    workbook's path."""
    made = build_demo_store(store, reset=reset)
    root = Path(store)
    newest = newest_open_session(made) or made[-1]
    print(f"demo store: {root.resolve()} ({len(made)} workbooks, fictional cases)")
    _placement_hint(root)
    print(newest)
    if not lab:
        return newest
    from .lab import run_lab

    run_lab(newest, root=root, port=port, browser=browser)  # JupyterLab takes over
    return newest  # not reached
