"""Review and evidence events in a record's history, and the review state replayed from them.

A record a student hands in (a process recording, an observation, an evaluation) moves
through **draft → submitted → returned → submitted … → signed**. The moves are journal events,
written through the one append path (``core.append``) like answers and signatures, so they are
hash-chained, dated and attributed:

- ``submit``  ``{role: "worker", name, text?}``: handed in for review.
- ``return``  ``{role: "supervisor", name, text}``: returned for revision, with the reason.
- ``comment`` ``{role, name, id, row?, text}``: a comment on one prompt's answer (``row``: one
  row of a table answer, counted from 1).
- ``tag``     ``{role, name, id, row?, competencies: ["framework:id", …], text?}``: this answer
  (or row) is evidence for these competencies. The latest tag of an answer replaces earlier
  ones (an empty list removes it).

**signed** is the lock (both signatures over the same answers, ``core.state``). The lock rule
lets ``tag`` through after the lock (a tag changes no answer: it says what an answer is
evidence of, and evidence is often gathered from records signed long before); ``submit``,
``return`` and ``comment`` are refused once locked (an addendum says anything that is left).
A tutor's countersignature is an addendum with ``kind: "countersign"`` (see
``placements.review``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SUBMIT, RETURN, COMMENT, TAG = "submit", "return", "comment", "tag"
REVIEW_EVENTS = (SUBMIT, RETURN, COMMENT)
DRAFT, SUBMITTED, RETURNED, SIGNED = "draft", "submitted", "returned", "signed"
STATES = (DRAFT, SUBMITTED, RETURNED, SIGNED)
COUNTERSIGN = "countersign"  # the ``kind`` of a tutor's countersigning addendum


def row_of(ev: dict[str, Any]) -> int | None:
    row = ev.get("row")
    return row if isinstance(row, int) and not isinstance(row, bool) and row > 0 else None


@dataclass
class ReviewState:
    """Where a record stands in review, and what was said about it."""

    state: str = DRAFT
    submissions: list[dict[str, Any]] = field(default_factory=list)
    returns: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    tags: dict[tuple[str, int | None], dict[str, Any]] = field(default_factory=dict)
    countersignatures: list[dict[str, Any]] = field(default_factory=list)
    changed_since_submit: bool = False  # the worker changed answers after handing it in

    @property
    def last_move(self) -> dict[str, Any] | None:
        moves = self.submissions + self.returns
        return max(moves, key=lambda e: _seq(e)) if moves else None

    def describe(self) -> str:
        """One line: "submitted 2026-03-02 10:14 by L. Haddad (changed since)"."""
        ev = self.last_move
        text = self.state
        if ev is not None and self.state in (SUBMITTED, RETURNED):
            when = str(ev.get("t", ""))[:16].replace("T", " ")
            who = ev.get("name") or ev.get("role") or ""
            text += f" {when} UTC" + (f" by {who}" if who else "")
        if self.state == SUBMITTED and self.changed_since_submit:
            text += " (answers changed since)"
        return text


def _seq(ev: dict[str, Any]) -> int:
    try:
        return int(ev.get("seq", 0))
    except (TypeError, ValueError):
        return 0


def review_state(events: list[dict[str, Any]], locked: bool = False) -> ReviewState:
    """Replay ``events`` (journal order). ``locked``: the record's lock state (core.state)."""
    st = ReviewState()
    for ev in events:
        kind = ev.get("type", "answer")
        if kind == SUBMIT:
            st.submissions.append(ev)
            st.state, st.changed_since_submit = SUBMITTED, False
        elif kind == RETURN:
            st.returns.append(ev)
            st.state = RETURNED
        elif kind == COMMENT and isinstance(ev.get("id"), str):
            st.comments.append(ev)
        elif kind == TAG and isinstance(ev.get("id"), str):
            comps = ev.get("competencies")
            key = (ev["id"], row_of(ev))
            if isinstance(comps, list) and comps:
                st.tags[key] = ev
            else:
                st.tags.pop(key, None)
        elif kind == "addendum" and ev.get("kind") == COUNTERSIGN:
            st.countersignatures.append(ev)
        elif kind == "answer" and st.state == SUBMITTED and ev.get("by") == "worker":
            st.changed_since_submit = True
    if locked:
        st.state = SIGNED
    return st
