"""``verify``: does the record say what its signers signed? From the files alone.

It judges meaning, not only hashes (see docs/signoff-and-privacy.md for what this proves
without keys):

- the journal's hash chain is unbroken (no event removed, inserted, reordered or altered);
- every signature covers exactly the answers the record held at that point of its history
  (a copied or replayed signature does not);
- after both have signed, nothing but addenda follows (any other event is reported, whatever
  its hashes), and no addendum comes before the lock;
- a torn last line in a signed journal is reported, never dropped;
- every answer shown in the notebook is one the journal saved (same prompt, time and value),
  so an edited mirror is found whatever timestamp it claims;
- the signatures and journal head that finalize copied into the .ipynb are still in the
  journal (a truncated or rewritten journal is found), and the sign-off text is unedited;
- a signature made on JupyterHub names the hub account the workbook gives for its role;
- with ``allowed_signers`` (git's allowed-signers file), every signature carries an SSH
  signature by a key allowed for its principal, and the two roles are different principals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.journal import GENESIS, chain_hash
from ..core.mirror import answer_output
from ..core.prompts import is_answered
from ..core.state import ROLES, answers_digest, normalise, seq_of, sha256_of
from ..core.text import terminal_safe
from ..core.workbook import (
    META,
    SIGNOFF_META,
    Record,
    answer_cells,
    embedded_events,
    mirrored,
    notebook_answers,
    open_record,
)
from . import sshsig
from .embed import SIGNOFF_CELL, signoff_markdown, when
from .identity import ACCOUNT_KEYS


@dataclass
class Verification:
    """The result of ``verify``; the CLI maps ``ok`` to exit 0 / 1."""

    path: str
    signatures: dict[str, dict[str, Any]] = field(default_factory=dict)
    addenda: list[dict[str, Any]] = field(default_factory=list)
    locked: bool = False
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fingerprint: str = ""  # hash of the last event: note it elsewhere to pin the history

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """Human-readable report, safe to print to a terminal."""
        out = []
        for role in ROLES:
            s = self.signatures.get(role)
            out.append(f"{role}: " + (f"signed by {s.get('name')} at {when(s)} UTC{_how(s)}"
                                      if s else "not signed"))
        out.append("locked: " + ("yes" if self.locked else "no"))
        for a in self.addenda:
            out.append(f"addendum: {a.get('role')} at {when(a)} UTC")
        if self.fingerprint:
            out.append(f"fingerprint: {self.fingerprint[:16]}")
        out += [f"note: {n}" for n in self.notes]
        out += [f"CHANGED: {p}" for p in self.problems]
        out.append("verification: " + ("OK" if self.ok else
                                       f"FAILED ({len(self.problems)} problem(s))"))
        return [terminal_safe(line) for line in out]


def _how(sig: dict[str, Any]) -> str:
    parts = []
    if sig.get("hub_user"):
        parts.append(f"hub account {sig['hub_user']}")
    if sig.get(sshsig.SIGNATURE):
        parts.append(f"SSH key {str(sig.get('key_fingerprint', ''))[:23]}".rstrip())
    return f" ({', '.join(parts)})" if parts else ""


def identity_problems(signed: dict[str, dict[str, Any]], info: dict[str, Any],
                      allowed_signers: Path | None) -> tuple[list[str], list[str]]:
    """(problems, notes) about who signed: hub accounts against the workbook's, and SSH
    signatures against an allowed-signers file."""
    problems: list[str] = []
    notes: list[str] = []
    for role, sig in signed.items():
        named, hub = info.get(ACCOUNT_KEYS.get(role, "")), sig.get("hub_user")
        if hub and named and hub != named:
            problems.append(f"the {role}'s signature was made by hub account {hub!r}, but the "
                            f"workbook names {named!r} as the {role}")
    if allowed_signers is None:
        return problems, notes
    for role, sig in signed.items():
        problem = sshsig.check_event(sig, allowed_signers)
        if problem:
            problems.append(problem)
        else:
            notes.append(f"the {role}'s SSH signature is good for "
                         f"{sshsig.principal_of(sig)!r} ({allowed_signers.name})")
    if len(signed) == len(ROLES) and len({sshsig.principal_of(s) for s in signed.values()}) == 1:
        problems.append("the worker and the supervisor signed as the same person "
                        f"({sshsig.principal_of(signed[ROLES[0]])!r})")
    return problems, notes


def what(ev: dict[str, Any]) -> str:
    kind = ev.get("type", "answer")
    if kind == "sign":
        return f"the {ev.get('role')}'s signature"
    if kind == "addendum":
        return f"the {ev.get('role')}'s addendum of {when(ev)}"
    return f"answer to {ev.get('id')!r}"


def check_chain(events: list[dict[str, Any]]) -> list[str]:
    """Problems in a journal's hash chain (altered, removed, inserted or reordered events)."""
    problems = []
    prev: Any = GENESIS
    for n, ev in enumerate(events, 1):
        if ev.get("prev") != prev:
            problems.append(f"journal event {n} ({what(ev)}): the hash chain breaks before it "
                            "(an earlier event was removed, inserted or altered)")
        if ev.get("h") != chain_hash(str(ev.get("prev", "")), ev):
            problems.append(f"{what(ev)} (journal event {n}) was altered after it was written")
        prev = ev.get("h")
    return problems


def _label(rec: Record, pid: str) -> str:
    label = str(rec.prompts.get(pid, {}).get("label", "unknown prompt"))
    return label if len(label) <= 50 else label[:49] + "…"


def _diff(signed: Any, current: dict[str, str]) -> list[tuple[str, str]]:
    signed = signed if isinstance(signed, dict) else {}
    out = []
    for pid in list(dict.fromkeys([*signed, *current])):
        if pid not in current:
            out.append((pid, "removed"))
        elif pid not in signed:
            out.append((pid, "added"))
        elif signed[pid] != current[pid]:
            out.append((pid, "changed"))
    return out


def _digest(value: Any) -> str | None:
    return sha256_of(normalise(value)) if is_answered(value) else None


def _signatures_match_history(rec: Record, mirror: dict[str, dict[str, Any]]) -> list[str]:
    """Each signature must cover the answers as they stood just before it in the journal."""
    problems = []
    answers = {pid: a for pid, a in mirror.items()}
    for ev in rec.journal.events:
        kind = ev.get("type", "answer")
        if kind == "answer" and isinstance(ev.get("id"), str):
            t = str(ev.get("t", ""))
            if ev["id"] not in answers or t >= answers[ev["id"]]["t"]:
                answers[ev["id"]] = {"v": ev.get("v"), "t": t}
        elif kind == "sign":
            total, _ = answers_digest({pid: a["v"] for pid, a in answers.items()
                                       if a["t"] <= str(ev.get("t", "")) or pid not in mirror})
            if ev.get("answers_sha256") != total:
                problems.append(f"{what(ev)} of {when(ev)} does not cover the answers the record "
                                "held when it was written (copied or replayed signature?)")
    return problems


def _mirror_problems(rec: Record) -> list[str]:
    """Answers shown in the .ipynb: each must be one the journal saved (prompt, time, value),
    or, with no journal, one the signatures cover; and its text must be the derived text."""
    problems: list[str] = []
    saved: dict[tuple[str, str], list[Any]] = {}
    for ev in rec.journal.events:
        if ev.get("type", "answer") == "answer" and isinstance(ev.get("id"), str):
            saved.setdefault((ev["id"], str(ev.get("t", ""))), []).append(normalise(ev.get("v")))
    signed = rec.state.signed
    # finalized after the lock: every answer shown must be exactly the locked answer (an
    # earlier draft replayed with its own journal time is not the record)
    finalized = str(rec.nb["metadata"][META].get("finalized") or "")
    final = rec.locked and finalized >= rec.state.locked_at
    locked_answers = rec.answers
    for i, ids in answer_cells(rec.nb):
        for out in rec.nb["cells"][i].get("outputs", []) or []:
            m = mirrored(out)
            if m is None:
                continue
            pid = m["id"]
            if pid not in ids or pid not in rec.prompts:
                problems.append(f"an answer to {pid!r} is shown in a cell that is not its own "
                                "(edited by hand?)")
                continue
            value, t = m.get("value"), str(m.get("t", ""))
            data = out["data"]
            try:
                expect = answer_output(rec.prompts[pid], value, t)["data"]
            except Exception:  # noqa: BLE001 - a value of the wrong shape was not written by us
                expect = {}
            for mime in ("text/markdown", "text/plain"):
                if mime in data and _text(data[mime]) != expect.get(mime):
                    problems.append(f"answer to {pid!r}: the text shown in the .ipynb was edited "
                                    "by hand (it differs from the recorded answer)")
            if final and normalise(value) != normalise(locked_answers.get(pid)) \
                    and (is_answered(value) or is_answered(locked_answers.get(pid))):
                problems.append(f"answer to {pid!r} ({_label(rec, pid)}) shown in the finalized "
                                ".ipynb is not the signed answer")
            if not is_answered(value):
                continue
            if rec.journal_exists and rec.journal.events:
                if normalise(value) not in saved.get((pid, t), []):
                    problems.append(f"answer to {pid!r} ({_label(rec, pid)}) shown in the .ipynb "
                                    "matches no answer the journal saved (edited by hand?)")
                    problems += [f"answer to {pid!r} ({_label(rec, pid)}) in the .ipynb differs "
                                 f"from what the {role} signed" for role, s in signed.items()
                                 if (s.get("prompts") or {}).get(pid) != _digest(value)]
            else:
                for role, s in signed.items():
                    if (s.get("prompts") or {}).get(pid) != _digest(value):
                        problems.append(f"answer to {pid!r} ({_label(rec, pid)}) in the .ipynb "
                                        f"differs from what the {role} signed")
    return problems


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value if value is not None else "")


def verify(path: str | os.PathLike[str],
           allowed_signers: str | os.PathLike[str] | None = None) -> Verification:
    """Check the record (see the module docstring). Needs only the .ipynb and its journal
    (and, to check SSH signatures, an allowed-signers file)."""
    allowed = sshsig.check_allowed_signers(allowed_signers) if allowed_signers else None
    rec = open_record(Path(path))
    rep = Verification(str(rec.path))
    jd = rec.journal
    st = rec.state
    if jd.torn_tail:
        msg = "the journal ends in an incomplete line"
        if any(e.get("type") == "sign" for e in jd.events):
            rep.problems.append(msg + " after signing (truncated or edited?)")
        else:
            rep.notes.append(msg + " (a crash while saving); ignored")
    if jd.unterminated:
        rep.notes.append("the journal's last line has no final newline")
    if jd.bad_lines:
        rep.problems.append(f"unreadable journal line(s) {jd.bad_lines[:5]}")
    rep.problems += check_chain(jd.events)
    emb = embedded_events(rec.nb)
    for e in emb:
        if e.get("h") != chain_hash(str(e.get("prev", "")), e):
            rep.problems.append(f"{what(e)} copied into the .ipynb was altered")
    if rec.journal_exists:
        by_seq = {seq_of(e): e for e in jd.events}
        for e in emb:
            if by_seq.get(seq_of(e), {}).get("h") != e.get("h"):
                rep.problems.append(f"{what(e)} recorded in the .ipynb is missing from or "
                                    "different in the journal (journal rewritten?)")
        head = (rec.nb["metadata"][META].get(SIGNOFF_META) or {}).get("journal_head")
        if isinstance(head, dict) and by_seq.get(seq_of(head), {}).get("h") != head.get("h"):
            rep.problems.append("the journal no longer holds the history the .ipynb was "
                                "finalized with (journal rewritten or truncated)")
    elif emb:
        rep.notes.append("no journal beside the workbook: verified from the .ipynb alone")
    events = rec.events
    rep.fingerprint = str(events[-1].get("h", "")) if events else ""
    rep.signatures, rep.addenda, rep.locked = st.signed, st.addenda, st.locked
    for ev in st.after_lock:
        rep.problems.append(f"{what(ev)} was written after the record was locked "
                            f"({when(ev)} UTC); only addenda may follow the signatures")
    lock_seq = seq_of(st.locking_event) if st.locking_event else None
    for a in st.addenda:
        if lock_seq is None or seq_of(a) <= lock_seq:
            rep.problems.append(f"{what(a)} comes before the record was locked")

    if rec.journal_exists and jd.events:
        rep.problems += _signatures_match_history(rec, notebook_answers(rec.nb))
    total, current = answers_digest(rec.answers)
    info = rec.info
    for role, s in st.signed.items():
        for key, want in (("workbook_id", info.get("id")), ("template", info.get("template")),
                          ("template_version", info.get("template_version"))):
            if s.get(key) != want:
                rep.problems.append(f"the {role}'s signature is for {key} {s.get(key)!r}, but "
                                    f"this workbook has {want!r}")
        diffs = _diff(s.get("prompts"), current)
        rep.problems += [f"answer to {pid!r} ({_label(rec, pid)}) was {how} after the "
                         f"{role} signed" for pid, how in diffs]
        if not diffs and s.get("answers_sha256") != total:
            rep.problems.append(f"the {role}'s signature was altered (its answers hash does "
                                "not match)")
    who, notes = identity_problems(st.signed, info, allowed)
    rep.problems += who
    rep.notes += notes
    rep.problems += _mirror_problems(rec)
    for cell in rec.nb["cells"]:
        if cell.get("metadata", {}).get(META, {}).get(SIGNOFF_CELL):
            data = rec.nb["metadata"][META].get(SIGNOFF_META) or {}
            want = signoff_markdown(data.get("signatures", []), data.get("addenda", []))
            if _text(cell.get("source")) != want:
                rep.problems.append("the sign-off / addenda text shown in the .ipynb was edited")
    rep.problems = list(dict.fromkeys(rep.problems))
    return rep
