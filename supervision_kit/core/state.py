"""The record's state, replayed from its events: who signed what, and whether it is locked.

The lock rule lives here and nowhere else. Events are replayed in order; a role's latest
``sign`` event is its signature. The record becomes **locked** at the first event after which
the worker's and the supervisor's latest signatures cover the same answers. From then on only
``addendum`` events (a tutor's countersignature is one) and evidence ``tag`` events
(``core.review``: they say what an answer is evidence of and change no answer) are
legitimate: anything else found after the lock is listed in ``after_lock`` (``verify``
reports it; ``append`` refuses to write it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from .journal import canonical
from .prompts import is_answered

ROLES = ("worker", "supervisor")
AFTER_LOCK = frozenset({"addendum", "tag"})  # the only event types a locked record accepts


def normalise(value: Any) -> Any:
    """Newlines as ``\\n`` in every string (recursively): the form that is hashed."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in value.items()}
    return value


def sha256_of(obj: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``obj``."""
    return hashlib.sha256(canonical(obj).encode("utf-8", "surrogatepass")).hexdigest()


def answers_digest(answers: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """(digest of all answered prompts, {prompt id: digest of its answer})."""
    clean = {pid: normalise(v) for pid, v in answers.items() if is_answered(v)}
    return sha256_of(clean), {pid: sha256_of(v) for pid, v in clean.items()}


def seq_of(ev: dict[str, Any]) -> int:
    try:
        return int(ev.get("seq", 0))
    except (TypeError, ValueError):
        return 0


@dataclass
class RecordState:
    signed: dict[str, dict[str, Any]] = field(default_factory=dict)  # role -> latest signature
    locked: bool = False
    locking_event: dict[str, Any] | None = None  # the signature that completed the lock
    after_lock: list[dict[str, Any]] = field(default_factory=list)  # illegitimate events
    addenda: list[dict[str, Any]] = field(default_factory=list)

    @property
    def locked_at(self) -> str:
        return str((self.locking_event or {}).get("t", ""))

    @property
    def names(self) -> dict[str, str]:
        return {r: str(s.get("name", "")) for r, s in self.signed.items()}

    def describe(self) -> str:
        """"signed by A (worker) and B (supervisor), locked 2026-11-23 10:02 UTC"."""
        who = " and ".join(f"{self.signed[r].get('name')} ({r})" for r in ROLES
                           if r in self.signed)
        when = self.locked_at[:16].replace("T", " ")
        return f"signed by {who}" + (f", locked {when} UTC" if self.locked else "")


def replay(events: list[dict[str, Any]]) -> RecordState:
    """The state after ``events`` (in journal order)."""
    st = RecordState()
    for ev in events:
        kind = ev.get("type", "answer")
        if st.locked:
            if kind == "addendum":
                st.addenda.append(ev)
            elif kind not in AFTER_LOCK:
                st.after_lock.append(ev)
            continue
        if kind == "sign" and ev.get("role") in ROLES:
            st.signed[ev["role"]] = ev
            digests = [st.signed[r].get("answers_sha256") for r in ROLES if r in st.signed]
            if len(digests) == len(ROLES) and isinstance(digests[0], str) \
                    and all(d == digests[0] for d in digests):
                st.locked, st.locking_event = True, ev
        elif kind == "addendum":
            st.addenda.append(ev)  # an addendum before the lock is itself a problem for verify
    return st
