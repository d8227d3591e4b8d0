"""Sign a record as worker or supervisor (only when it is complete), and add addenda.

A signature records role, name, UTC time, the workbook and template it is for,
``answers_sha256`` (SHA-256 over the canonical JSON of all answers, newlines normalised) and
``prompts`` (one digest per answer, so ``verify`` can name the prompt that changed). It is
computed and appended under the workbook lock, from the answers on disk.

Identity: on JupyterHub the signer must be the hub account the workbook names for the role
(``identity.check_signer``; the event records ``hub_user``). With a key (``key=`` or
``$SUPERVISION_KIT_SIGNING_KEY``) the event also carries an SSH signature over its content
(``sshsig``), which ``verify --allowed-signers`` checks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..core.append import append
from ..core.errors import ConflictError, IncompleteError, InputError, LockedError
from ..core.journal import now
from ..core.prompts import MAX_TEXT, is_answered, shown
from ..core.state import ROLES, answers_digest, normalise
from ..core.text import check_name, unsafe_char
from ..core.workbook import Record, open_record
from . import sshsig
from .identity import check_signer


def check_role(role: Any) -> str:
    if role not in ROLES:
        raise InputError(f"invalid role {role!r}: use worker or supervisor")
    return str(role)


def missing_required(rec: Record) -> list[tuple[str, str]]:
    """[(prompt id, label)] of required answers not yet given, and ratings whose evidence note
    (the prompt named by their ``evidence`` annotation) is empty. A prompt marked "not
    discussed this time" (with a reason) counts as given; one whose condition is not met is
    not asked."""
    answers = rec.answers
    skipped = rec.not_discussed
    out = []
    for pid, p in rec.prompts.items():
        if p.get("readonly") or pid in skipped or not shown(p, answers):
            continue
        if p.get("required") and not is_answered(answers.get(pid)):
            out.append((pid, str(p.get("label", pid))))
        ev = p.get("evidence")
        if ev and is_answered(answers.get(pid)) and not is_answered(answers.get(ev)) \
                and ev in rec.prompts:
            out.append((ev, f"evidence for: {p.get('label', pid)}"))
    return list(dict.fromkeys(out))


def sign(path: str | os.PathLike[str], role: str, name: str,
         key: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Sign the workbook's current answers as ``role``; returns the event plus ``locked`` and
    ``waiting``. Signing again (before the record is locked) replaces that role's signature.

    Under JupyterHub the hub user must be the account named for ``role`` (IdentityError).
    ``key`` (default ``$SUPERVISION_KIT_SIGNING_KEY``) adds an SSH signature."""
    p = Path(path)
    role, name = check_role(role), check_name(name, "name")
    check_signer(open_record(p).info, role)  # a clear error before any lock is taken
    signing_key = sshsig.key_path(key)

    def build(rec: Record) -> list[dict[str, Any]]:
        if rec.locked:
            raise LockedError(f"{p.name} is already {rec.state.describe()}; add an addendum "
                              "instead", path=p, locked_by=rec.state.names,
                              locked_at=rec.state.locked_at)
        answers = rec.answers
        if not any(is_answered(v) for v in answers.values()):
            raise InputError(f"nothing to sign: {p.name} has no answers yet", path=p)
        missing = missing_required(rec)
        if missing:
            listed = "; ".join(f"{pid} ({label[:60]})" for pid, label in missing[:12])
            more = f" and {len(missing) - 12} more" if len(missing) > 12 else ""
            raise IncompleteError(f"{p.name} cannot be signed yet: {len(missing)} required "
                                  f"answer(s) missing: {listed}{more}", path=p, missing=missing)
        total, per_prompt = answers_digest(answers)
        info = rec.info
        event = {
            "type": "sign", "role": role, "by": role, "name": name,
            "workbook_id": info.get("id"), "template": info.get("template"),
            "template_version": info.get("template_version"),
            "algorithm": "sha256", "answers_sha256": total, "prompts": per_prompt,
        }
        hub = check_signer(info, role)
        if hub:
            event["hub_user"] = hub
        if signing_key is not None:
            event |= {"t": now(), "principal": sshsig.principal_of(event)}
            event = sshsig.sign_event(event, signing_key)
        return [event]

    [written] = append(p, build, what=f"sign as {role}")
    state = open_record(p).state
    other = ROLES[1 - ROLES.index(role)]
    waiting = None
    if not state.locked:
        theirs = state.signed.get(other)
        waiting = (f"waiting for the {other} to sign" if theirs is None else
                   f"the {other} signed different answers and must sign again")
    return {**written, "locked": state.locked, "waiting": waiting}


def check_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InputError("the addendum text is empty")
    text = str(normalise(text))
    if any(unsafe_char(c, allow_newline=True) for c in text):
        raise InputError("the addendum text contains control or direction characters")
    if len(text) > MAX_TEXT:
        raise InputError(f"the addendum is {len(text):,} characters; the limit is {MAX_TEXT:,}")
    return text.strip("\n")


def add_addendum(path: str | os.PathLike[str], role: str, text: str,
                 name: str = "") -> dict[str, Any]:
    """Append a dated addendum to a locked record (the only way to change it)."""
    p = Path(path)
    role, text = check_role(role), check_text(text)
    name = check_name(name, "name") if name else ""
    hub = check_signer(open_record(p).info, role)

    def build(rec: Record) -> list[dict[str, Any]]:
        if not rec.locked:
            raise ConflictError(f"{p.name} is not locked yet (both must sign first); change "
                                "the answers themselves instead of adding an addendum", path=p)
        return [{"type": "addendum", "role": role, "by": role, "name": name, "text": text,
                 "record_sha256": rec.state.signed["worker"].get("answers_sha256"),
                 **({"hub_user": hub} if hub else {})}]

    [written] = append(p, build, what="addendum")
    return written
