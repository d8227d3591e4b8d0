"""A workbook and its answers: the one place that reads a record.

``open_record(path)`` (or ``record_from_bytes``) gives a ``Record``: the notebook as plain JSON
(no nbformat: ``responses`` must start fast and a finalized .ipynb must be readable without
this package), its metadata, its prompt index, its journal, its state (signatures, lock) and
its answers merged by **the read rule**:

1. Answers mirrored into the notebook's outputs are read first (``ANSWER_MIME``).
2. The journal's answer events override them when at least as new (by timestamp), so an
   open workbook reads the same as a finalized one.
3. Once the journal holds a lock (both have signed the same answers), the answers are those
   the journal held at the lock: nothing after it, and no mirror, can change them.

An answer cell is a code cell whose metadata names the prompts it shows: ``supervision_kit.prompts``
(a section's prompts, in order: format 3) or ``supervision_kit.prompt`` (one: formats 1-2).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import formats
from .data import MAX_NOTEBOOK, parse_json, read_regular
from .errors import WorkbookError
from .journal import JournalData, read_journal
from .prompts import KINDS, is_answered
from .review import ReviewState, review_state
from .state import RecordState, replay, seq_of
from .store import journal_path

ANSWER_MIME = "application/vnd.supervision-kit.answer+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
META = "supervision_kit"
SIGNOFF_META = "signoff"  # metadata[supervision_kit][signoff]: events copied in by finalize
NOT_DISCUSSED = "not_discussed"  # metadata[supervision_kit][not_discussed]: id -> reason
# prompt keys that say what an answer means (docs/architecture.md, "Annotations")
ANNOTATIONS = ("rates", "evidence", "duration", "outcome", "carry", "carried", "private",
               "competencies", "scope", "case", "required", "review_date",
               # placements (docs/placements.md): the competency a prompt is about (set when a
               # section is repeated per competency), level ratings, how a session was held,
               # the supervisor's credential, and the placement's start and end
               "competency", "level_rating", "supervision_mode", "credential",
               "credential_since", "period")


def meaning(prompt: dict[str, Any]) -> dict[str, Any]:
    """The annotations of one prompt (what its answer means), and nothing else."""
    return {k: prompt[k] for k in ANNOTATIONS if k in prompt}


# ---------------------------------------------------------------- loading


def load_notebook(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The workbook as a JSON dict (upgraded to the current format in memory); a clear
    WorkbookError for anything that is not a regular, well-formed supervision-kit workbook."""
    p = Path(path)
    return parse_notebook(read_regular(p, MAX_NOTEBOOK, "workbook"), p)


def parse_notebook(raw: bytes | str, source: Any = "<workbook>") -> dict[str, Any]:
    """Bytes -> checked, upgraded notebook dict (also used for uploads)."""
    nb = parse_json(raw, source, "a notebook")
    check_structure(nb, source)
    return formats.upgrade(nb, source)


def check_structure(nb: Any, source: Any) -> None:
    """Everything the readers rely on, checked once, so a corrupt file is refused with a
    message naming what is wrong rather than crashing (or being rewritten) later."""
    def bad(what: str) -> WorkbookError:
        return WorkbookError(f"{source}: {what}", path=source)

    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise bad("not a Jupyter notebook (no cell list)")
    if not isinstance(nb.get("metadata"), dict):
        raise bad("not a Jupyter notebook (no metadata)")
    meta = nb["metadata"].get(META)
    if not isinstance(meta, dict) or not isinstance(meta.get("prompt_set"), dict):
        raise bad(f"not a supervision-kit workbook (no {META} metadata)")
    if not isinstance(meta.get("workbook", {}), dict):
        raise bad("workbook metadata is not an object")
    sections = meta["prompt_set"].get("sections")
    if not isinstance(sections, list) or not sections:
        raise bad("the workbook's prompt set has no sections")
    seen: set[str] = set()
    for s in sections:
        if not isinstance(s, dict) or not isinstance(s.get("id"), str) \
                or not isinstance(s.get("prompts"), list):
            raise bad("a section of the prompt set is malformed")
        for pr in s["prompts"]:
            if not isinstance(pr, dict) or not isinstance(pr.get("id"), str):
                raise bad(f"a prompt in section {s['id']!r} is malformed")
            if pr.get("kind") not in KINDS or not isinstance(pr.get("label", ""), str):
                raise bad(f"prompt {pr['id']!r} has an unknown kind or a bad label")
            if pr["id"] in seen:
                raise bad(f"prompt id {pr['id']!r} appears twice")
            seen.add(pr["id"])
            if pr["kind"] == "scale" and not (isinstance(pr.get("min"), int)
                                              and isinstance(pr.get("max"), int)
                                              and pr["max"] - pr["min"] <= 100):
                raise bad(f"prompt {pr['id']!r}: scale bounds are missing or too wide")
            if pr["kind"] == "table" and not (isinstance(pr.get("columns"), list)
                                              and all(isinstance(c, dict) and "id" in c
                                                      for c in pr["columns"])):
                raise bad(f"prompt {pr['id']!r}: table columns are malformed")
            if pr["kind"] in ("choice", "multi") and not isinstance(pr.get("options"), list):
                raise bad(f"prompt {pr['id']!r}: options are missing")
    for i, c in enumerate(nb["cells"]):
        if not isinstance(c, dict) or not isinstance(c.get("metadata", {}), dict):
            raise bad(f"cell {i + 1} is malformed")
        if not isinstance(c.get("outputs", []), list):
            raise bad(f"cell {i + 1} has malformed outputs")


def workbook_info(nb: dict[str, Any]) -> dict[str, Any]:
    return dict(nb["metadata"][META].get("workbook", {}))


def prompt_index(nb: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Prompt id -> prompt definition (with ``section`` and its ``section_title``), in order."""
    return prompt_index_of(nb["metadata"][META]["prompt_set"])


def prompt_index_of(prompt_set: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The same index for a prompt set given as a dict."""
    sections = prompt_set.get("sections", [])
    out = {}
    for s in sections:
        extra = {"section": s["id"], "section_title": s.get("title", s["id"])}
        if s.get("scope"):
            extra["scope"] = s["scope"]
        if s.get("case"):
            extra["case"] = s["case"]
        if s.get("private"):
            extra["private"] = True
        for p in s.get("prompts", []):
            out[p["id"]] = {**extra, **p}
    return out


def answer_cells(nb: dict[str, Any]) -> list[tuple[int, list[str]]]:
    """(cell index, prompt ids shown there) for every answer cell, in notebook order."""
    out = []
    for i, c in enumerate(nb["cells"]):
        own = c.get("metadata", {}).get(META)
        if type(own) is not dict or c.get("cell_type") != "code":  # noqa: E721 - parsed JSON
            continue
        ids = own.get("prompts")
        if isinstance(ids, list):
            ids = [pid for pid in ids if isinstance(pid, str)]
        elif isinstance(own.get("prompt"), str):
            ids = [own["prompt"]]
        else:
            continue
        if ids:
            out.append((i, ids))
    return out


def mirrored(out: Any) -> dict[str, Any] | None:
    """The answer record inside one cell output, if it holds one."""
    data = out.get("data") if isinstance(out, dict) else None
    rec = data.get(ANSWER_MIME) if isinstance(data, dict) else None
    return rec if isinstance(rec, dict) and isinstance(rec.get("id"), str) else None


def notebook_answers(nb: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Answers mirrored into the notebook's outputs: id -> {"v", "t"}."""
    found: dict[str, dict[str, Any]] = {}
    for i, _ids in answer_cells(nb):
        for out in nb["cells"][i].get("outputs", []):
            rec = mirrored(out)
            if rec is not None and rec.get("value") is not None:
                found[rec["id"]] = {"v": rec["value"], "t": str(rec.get("t", ""))}
    return found


def embedded_events(nb: dict[str, Any]) -> list[dict[str, Any]]:
    """Signatures and addenda that finalize copied into the notebook, in journal order."""
    data = nb["metadata"][META].get(SIGNOFF_META)
    if not isinstance(data, dict):
        return []
    events = [e for key in ("signatures", "addenda") for e in data.get(key) or []
              if isinstance(e, dict)]
    return sorted(events, key=seq_of)


# ---------------------------------------------------------------- the record


@dataclass
class Record:
    """One workbook with everything the readers need, read once."""

    path: Path
    nb: dict[str, Any]
    journal: JournalData
    journal_exists: bool
    info: dict[str, Any] = field(init=False)
    prompts: dict[str, dict[str, Any]] = field(init=False)
    events: list[dict[str, Any]] = field(init=False)  # the history the state is replayed from
    state: RecordState = field(init=False)
    merged: dict[str, dict[str, Any]] = field(init=False)  # id -> {"v", "t"}

    def __post_init__(self) -> None:
        self.info = workbook_info(self.nb) | {"path": str(self.path)}
        self.prompts = prompt_index(self.nb)
        self.events = self.journal.events if self.journal_exists else embedded_events(self.nb)
        # a journal rewritten without the signatures finalize embedded still counts as signed
        if self.journal_exists:
            have = {e.get("h") for e in self.events}
            missing = [e for e in embedded_events(self.nb) if e.get("h") not in have]
            events = self.events + missing if missing else self.events
        else:
            events = self.events
        self.state = replay(events)
        self.merged = merge(notebook_answers(self.nb), self.journal, self.state)

    @property
    def answers(self) -> dict[str, Any]:
        """id -> value, in workbook order; unknown ids (e.g. from a newer template) kept last."""
        ordered = {pid: self.merged[pid]["v"] for pid in self.prompts if pid in self.merged}
        ordered |= {pid: a["v"] for pid, a in self.merged.items() if pid not in self.prompts}
        return ordered

    @property
    def locked(self) -> bool:
        return self.state.locked

    @property
    def not_discussed(self) -> dict[str, str]:
        """Prompts marked "not discussed this time" (id -> reason), until answered after all.
        From the journal's ``skip`` events, else from what finalize copied into the notebook."""
        events = self.journal.events if self.journal_exists and self.journal.events else None
        if events is None:
            saved = self.nb["metadata"][META].get(NOT_DISCUSSED)
            return {str(k): str(v) for k, v in saved.items()} if isinstance(saved, dict) else {}
        out: dict[str, str] = {}
        stop = seq_of(self.state.locking_event) if self.state.locking_event else None
        for ev in events:
            if stop is not None and seq_of(ev) > stop:
                break
            pid = ev.get("id")
            if not isinstance(pid, str):
                continue
            if ev.get("type") == "skip":
                out[pid] = str(ev.get("reason", ""))
            elif ev.get("type", "answer") == "answer" and is_answered(ev.get("v")):
                out.pop(pid, None)
        return out

    @property
    def review(self) -> ReviewState:
        """Review state (draft, submitted, returned, signed), comments and evidence tags."""
        return review_state(self.events, self.locked)

    @property
    def template(self) -> dict[str, Any]:
        """The prompt set's top-level fields (name, kind, flags) without its sections."""
        ps = self.nb["metadata"][META]["prompt_set"]
        return {k: v for k, v in ps.items() if k != "sections"}


def merge(mirror: dict[str, dict[str, Any]], journal: JournalData,
          state: RecordState) -> dict[str, dict[str, Any]]:
    """The read rule (see the module docstring)."""
    if state.locked and state.locking_event is not None:
        stop = seq_of(state.locking_event)
        out: dict[str, dict[str, Any]] = {}
        source = [e for e in journal.events if seq_of(e) <= stop]
        if not source:  # journal gone: the finalized notebook's outputs are the record
            return dict(mirror)
        for ev in source:
            if ev.get("type", "answer") == "answer" and isinstance(ev.get("id"), str):
                out[ev["id"]] = {"v": ev.get("v"), "t": str(ev.get("t", ""))}
        return out
    merged = dict(mirror)
    for pid, ev in journal.answers().items():
        t = str(ev.get("t", ""))
        if pid not in merged or t >= merged[pid]["t"]:
            merged[pid] = {"v": ev.get("v"), "t": t}
    return merged


def open_record(path: str | os.PathLike[str]) -> Record:
    p = Path(path)
    nb = load_notebook(p)
    jp = journal_path(p)
    exists = os.path.lexists(jp)
    return Record(p, nb, read_journal(jp) if exists else JournalData(), exists)


def record_from_notebook(nb: dict[str, Any], path: str | os.PathLike[str],
                         journal: JournalData | None = None) -> Record:
    """A record from an already parsed notebook (uploads, batch readers)."""
    return Record(Path(path), nb, journal or JournalData(), journal is not None)


def read_answers(path: str | os.PathLike[str]) -> dict[str, Any]:
    """``{"workbook": {...}, "answers": {prompt_id: value}}`` by the read rule."""
    rec = open_record(path)
    return {"workbook": rec.info, "answers": rec.answers}


def list_prompts(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The prompts of a workbook: id, kind, section, role, label."""
    nb = load_notebook(path)
    return [
        {k: p.get(k) for k in ("id", "kind", "section", "role", "label")}
        | {"role": p.get("role", "worker")}
        for p in prompt_index(nb).values()
    ]


def answered(answers: dict[str, Any]) -> dict[str, Any]:
    return {pid: v for pid, v in answers.items() if is_answered(v)}
