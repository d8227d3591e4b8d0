"""The review workflow and evidence tags, written through the one append path.

A student **submits** a record for review; the practice educator **comments** on any prompt
(or one row of a table) and either **returns** it for revision or signs it (``signoff.sign``);
once both have signed, the record is locked. A tutor may then **countersign**: an addendum
with ``role: tutor`` and ``kind: countersign`` over the locked answers, the one thing a locked
record accepts besides addenda and tags. Anyone may **tag** an answer as evidence for
competencies of the worker's framework, before or after the lock (``core.review``).

Each function validates first, then appends under the workbook lock, deciding from the
record as it is on disk (``core.append``). Events carry ``role``, ``by`` and ``name``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..core.append import append
from ..core.errors import ConflictError, IdentityError, InputError
from ..core.prompts import MAX_TEXT, is_answered
from ..core.review import COMMENT, COUNTERSIGN, RETURN, SUBMIT, SUBMITTED, TAG
from ..core.state import normalise
from ..core.text import check_name, unsafe_char
from ..core.workbook import Record, open_record
from .agreements import framework_of, store_of, worker_framework
from .frameworks import Framework, load_framework

ROLES = ("worker", "supervisor", "tutor")


def _role(role: Any, allowed: tuple[str, ...] = ROLES) -> str:
    if role not in allowed:
        raise InputError(f"invalid role {role!r}: use {', '.join(allowed)}")
    return str(role)


def check_text(text: Any, what: str = "text", required: bool = True) -> str:
    """A comment, note or reason: plain text (newlines allowed), within the answer limit."""
    if text is None or (isinstance(text, str) and not text.strip()):
        if required:
            raise InputError(f"the {what} is empty")
        return ""
    if not isinstance(text, str):
        raise InputError(f"the {what} must be text")
    text = str(normalise(text)).strip("\n")
    if any(unsafe_char(c, allow_newline=True) for c in text):
        raise InputError(f"the {what} contains control or direction characters")
    if len(text) > MAX_TEXT:
        raise InputError(f"the {what} is {len(text):,} characters; the limit is {MAX_TEXT:,}")
    return text


def _name(rec: Record, role: str, name: str | None) -> str:
    """The name to record: as given, else the one the record names for that role."""
    if name:
        return check_name(name, "name")
    return str(rec.info.get(role) or (rec.info.get("parameters") or {}).get(role) or "")


def _target(rec: Record, prompt_id: str, row: int | None) -> dict[str, Any]:
    p = rec.prompts.get(prompt_id)
    if p is None:
        raise InputError(f"{rec.path.name} has no prompt {prompt_id!r} (see supervision-kit "
                         "prompts)", path=rec.path, prompt_id=prompt_id)
    if row is not None:
        if isinstance(row, bool) or not isinstance(row, int) or row < 1:
            raise InputError("--row counts table rows from 1", prompt_id=prompt_id)
        if p.get("kind") != "table":
            raise InputError(f"prompt {prompt_id!r} is not a table; leave out --row",
                             prompt_id=prompt_id)
        rows = rec.answers.get(prompt_id)
        if not isinstance(rows, list) or row > len(rows):
            have = len(rows) if isinstance(rows, list) else 0
            raise InputError(f"prompt {prompt_id!r} has {have} row(s); there is no row {row}",
                             prompt_id=prompt_id)
    return p


def _open(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    open_record(p)  # a clear error for a bad file before any lock is taken
    return p


# ---------------------------------------------------------------- review


def submit(path: str | os.PathLike[str], *, name: str | None = None,
           text: str | None = None) -> dict[str, Any]:
    """The student hands the record in for review (again, after a return)."""
    p = _open(path)
    note = check_text(text, "note", required=False)

    def build(rec: Record) -> list[dict[str, Any]]:
        if not any(is_answered(v) for v in rec.answers.values()):
            raise InputError(f"nothing to submit: {p.name} has no answers yet", path=p)
        st = rec.review
        if st.state == SUBMITTED and not st.changed_since_submit:
            raise ConflictError(f"{p.name} is already submitted for review and unchanged "
                                "since; wait for comments or a return", path=p)
        ev = {"type": SUBMIT, "role": "worker", "by": "worker", "name": _name(rec, "worker", name)}
        return [ev | ({"text": note} if note else {})]

    [written] = append(p, build, what="submit for review")
    return written


def return_for_revision(path: str | os.PathLike[str], text: str, *,
                        name: str | None = None) -> dict[str, Any]:
    """The practice educator returns a submitted record, saying what to revise."""
    p = _open(path)
    reason = check_text(text, "reason for returning it")

    def build(rec: Record) -> list[dict[str, Any]]:
        if rec.review.state != SUBMITTED:
            raise ConflictError(f"{p.name} is {rec.review.state}, not submitted; only a "
                                "submitted record can be returned", path=p)
        return [{"type": RETURN, "role": "supervisor", "by": "supervisor",
                 "name": _name(rec, "supervisor", name), "text": reason}]

    [written] = append(p, build, what="return for revision")
    return written


def comment(path: str | os.PathLike[str], prompt_id: str, text: str, *,
            role: str = "supervisor", row: int | None = None,
            name: str | None = None) -> dict[str, Any]:
    """A comment on one prompt's answer, or on one row (from 1) of a table answer."""
    p = _open(path)
    role, body = _role(role), check_text(text, "comment")

    def build(rec: Record) -> list[dict[str, Any]]:
        _target(rec, prompt_id, row)
        ev = {"type": COMMENT, "role": role, "by": role, "name": _name(rec, role, name),
              "id": prompt_id, "text": body}
        return [ev | ({"row": row} if row is not None else {})]

    [written] = append(p, build, what="comment")
    return written


# ---------------------------------------------------------------- evidence tags


def framework_for(rec: Record, framework: str | None = None,
                  templates: str | None = None) -> Framework:
    """The framework a record's answers are tagged against: as given, else the one the
    record itself was made with, else the one chosen in the worker's learning agreement."""
    if framework:
        return load_framework(framework, templates)
    found = framework_of(rec) or worker_framework(store_of(rec.path, rec.info),
                                                  str(rec.info.get("worker") or ""),
                                                  str(rec.info.get("session_date") or "") or None)
    if found is None:
        raise InputError(f"no framework for {rec.info.get('worker')!r}: make their learning "
                         "agreement first, or give --framework NAME", path=rec.path)
    return found


def tag(path: str | os.PathLike[str], prompt_id: str, competencies: list[str], *,
        role: str = "worker", row: int | None = None, text: str | None = None,
        name: str | None = None, framework: str | None = None,
        templates: str | None = None) -> dict[str, Any]:
    """Tag an answer (or a table row) as evidence for competencies, given as ids, refs or
    ``framework:id``; an empty list removes the tag. Allowed after the lock."""
    p = _open(path)
    role = _role(role)
    note = check_text(text, "note", required=False)
    if not isinstance(competencies, list | tuple):
        raise InputError("competencies must be a list")

    def build(rec: Record) -> list[dict[str, Any]]:
        prompt = _target(rec, prompt_id, row)
        if prompt.get("private"):
            raise InputError(f"prompt {prompt_id!r} is private to worker and supervisor; it "
                             "cannot be evidence (evidence is quoted in evaluations)",
                             prompt_id=prompt_id)
        if not is_answered(rec.answers.get(prompt_id)):
            raise InputError(f"prompt {prompt_id!r} has no answer to tag yet",
                             prompt_id=prompt_id)
        fw = framework_for(rec, framework, templates)
        ids = list(dict.fromkeys(fw.resolve(c) for c in competencies))
        ev: dict[str, Any] = {"type": TAG, "role": role, "by": role,
                              "name": _name(rec, role, name), "id": prompt_id,
                              "competencies": [fw.qualified(c) for c in ids]}
        if row is not None:
            ev["row"] = row
        return [ev | ({"text": note} if note else {})]

    [written] = append(p, build, what="tag evidence")
    return written


# ---------------------------------------------------------------- tutor


def countersign(path: str | os.PathLike[str], name: str, text: str = "") -> dict[str, Any]:
    """The tutor countersigns a record both have signed: a dated addendum (``role: tutor``,
    ``kind: countersign``) recording the locked answers' digest. Refused before the lock, a
    second time by the same person, and by anyone but the tutor the record names (its
    ``tutor`` parameter), when it names one."""
    p = _open(path)
    name = check_name(name, "name")
    body = check_text(text, "comment", required=False)

    def build(rec: Record) -> list[dict[str, Any]]:
        if not rec.locked:
            raise ConflictError(f"{p.name} is not signed by both the student and the practice "
                                "educator yet; the tutor countersigns after them", path=p)
        named = str((rec.info.get("parameters") or {}).get("tutor") or "").strip()
        if named and named != name:
            raise IdentityError(f"{p.name} names {named!r} as its tutor, not {name!r}", path=p)
        if any(ev.get("name") == name for ev in rec.review.countersignatures):
            raise ConflictError(f"{p.name} is already countersigned by {name}", path=p)
        signed = rec.state.locking_event or {}
        words = f"Countersigned by {name} (tutor)." + (f"\n\n{body}" if body else "")
        return [{"type": "addendum", "kind": COUNTERSIGN, "role": "tutor", "by": "tutor",
                 "name": name, "text": words,
                 "record_sha256": signed.get("answers_sha256")}]

    [written] = append(p, build, what="countersign")
    return written


def countersign_problems(rec: Record) -> list[str]:
    """Countersignatures that do not cover the locked answers (for reports)."""
    want = (rec.state.locking_event or {}).get("answers_sha256")
    return [f"the countersignature of {ev.get('name')} does not cover the signed answers"
            for ev in rec.review.countersignatures if ev.get("record_sha256") != want]
