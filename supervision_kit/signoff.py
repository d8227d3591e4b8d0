"""Joint sign-off: answer digests, signatures, lock, addenda, verification and history.

Signatures and addenda are journal events (``type`` ``sign`` / ``addendum``), so the journal's
SHA-256 hash chain covers them. A signature records role, name, UTC time, template id/version,
``answers_sha256`` (SHA-256 over the canonical JSON of all answers, newlines normalised) and
``prompts`` (one digest per answer, so ``verify`` can name the prompt that changed).

A workbook is **locked** when the latest worker and supervisor signatures cover the same
answers. ``finalize`` copies signatures and addenda into the notebook metadata
(``supervision_kit.signoff``) so the .ipynb alone can be verified.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import journal as jr
from .errors import ConflictError, InputError, KitError, LockedError
from .prompts import MAX_TEXT, is_answered
from .store import journal_path

ROLES = ("worker", "supervisor")
SIGNOFF_META = "signoff"  # key in notebook metadata[supervision_kit], written by finalize
SIGNOFF_CELL = "signoff_cell"  # cell metadata flag of the shown sign-off/addenda cell


class VerificationFailed(KitError):
    """The record was altered after signing (exit 1)."""


# ---------------------------------------------------------------- digests


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
    return hashlib.sha256(jr.canonical(obj).encode("utf-8", "surrogatepass")).hexdigest()


def answers_digest(answers: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """(digest of all answered prompts, {prompt id: digest of its answer})."""
    clean = {pid: normalise(v) for pid, v in answers.items() if is_answered(v)}
    return sha256_of(clean), {pid: sha256_of(v) for pid, v in clean.items()}


# ---------------------------------------------------------------- state


def _embedded(nb: dict[str, Any] | None) -> dict[str, Any]:
    if not nb:
        return {}
    meta = nb.get("metadata", {}).get("supervision_kit", {})
    data = meta.get(SIGNOFF_META) if isinstance(meta, dict) else None
    return data if isinstance(data, dict) else {}


def _embedded_events(nb: dict[str, Any] | None) -> list[dict[str, Any]]:
    data = _embedded(nb)
    events = [e for key in ("signatures", "addenda") for e in data.get(key, []) or []
              if isinstance(e, dict)]
    return sorted(events, key=lambda e: _seq(e))


def _seq(ev: dict[str, Any]) -> int:
    try:
        return int(ev.get("seq", 0))
    except (TypeError, ValueError):
        return 0


def _latest_signatures(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    signed: dict[str, dict[str, Any]] = {}
    for ev in events:
        if ev.get("type") == "sign" and ev.get("role") in ROLES:
            signed[ev["role"]] = ev
    return signed


def _is_locked(signed: dict[str, dict[str, Any]]) -> bool:
    return all(r in signed for r in ROLES) and len(
        {signed[r].get("answers_sha256") for r in ROLES}) == 1


def lock_state(path: Path, nb: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"signed": {role: event}, "locked": bool}`` from the journal beside ``path``.

    With ``nb``, signatures copied into the notebook at finalize also count (so deleting the
    journal does not unlock a record).
    """
    events = {_seq(e): e for e in _embedded_events(nb)}
    events |= {_seq(e): e for e in jr.read_journal(journal_path(Path(path))).events}
    signed = _latest_signatures([events[k] for k in sorted(events)])
    return {"signed": signed, "locked": _is_locked(signed)}


# ---------------------------------------------------------------- sign and addenda


def check_role(role: Any) -> str:
    if role not in ROLES:
        raise InputError(f"invalid role {role!r}: use worker or supervisor")
    return role


def check_name(name: Any) -> str:
    name = "" if name is None else str(name).strip()
    if not name:
        raise InputError("a name (or initials) is required to sign")
    if len(name) > 120 or any(ord(c) < 32 or c == "\x7f" for c in name):
        raise InputError(f"invalid name {name[:40]!r}: one line, at most 120 characters")
    return name


def sign(path: str | Path, role: str, name: str) -> dict[str, Any]:
    """Sign the workbook's current answers as ``role``; returns the event plus ``locked``.

    Signing again (before the record is locked) replaces that role's earlier signature.
    """
    from .record import load_notebook, read_answers, workbook_lock

    path = Path(path)
    role, name = check_role(role), check_name(name)
    load_notebook(path)  # a clear error before any lock file is created
    with workbook_lock(path):
        nb = load_notebook(path)
        if lock_state(path, nb)["locked"]:
            raise LockedError(f"{path.name} is already signed by worker and supervisor and "
                              "locked; add an addendum instead")
        rec = read_answers(path)
        if not any(is_answered(v) for v in rec["answers"].values()):
            raise InputError(f"nothing to sign: {path.name} has no answers yet")
        total, per_prompt = answers_digest(rec["answers"])
        info = rec["workbook"]
        event = {
            "type": "sign", "role": role, "by": role, "name": name, "t": jr.now(),
            "workbook_id": info.get("id"), "template": info.get("template"),
            "template_version": info.get("template_version"),
            "algorithm": "sha256", "answers_sha256": total, "prompts": per_prompt,
        }
        [written] = jr.append_events(journal_path(path), [event], lock=False)
        state = lock_state(path, nb)
    other = ROLES[1 - ROLES.index(role)]
    waiting = None
    if not state["locked"]:
        theirs = state["signed"].get(other)
        waiting = (f"waiting for the {other} to sign" if theirs is None else
                   f"the {other} signed different answers and must sign again")
    return {**written, "locked": state["locked"], "waiting": waiting}


def check_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InputError("the addendum text is empty")
    if "\x00" in text:
        raise InputError("the addendum text contains a NUL character")
    if len(text) > MAX_TEXT:
        raise InputError(f"the addendum is {len(text):,} characters; the limit is {MAX_TEXT:,}")
    return normalise(text).strip("\n")


def add_addendum(path: str | Path, role: str, text: str, name: str = "") -> dict[str, Any]:
    """Append a dated addendum to a locked record (the only way to change it)."""
    from .record import load_notebook, workbook_lock

    path = Path(path)
    role, text = check_role(role), check_text(text)
    name = check_name(name) if name else ""
    load_notebook(path)
    with workbook_lock(path):
        nb = load_notebook(path)
        state = lock_state(path, nb)
        if not state["locked"]:
            raise ConflictError(f"{path.name} is not locked yet (both must sign first); change "
                                "the answers themselves instead of adding an addendum")
        event = {"type": "addendum", "role": role, "by": role, "name": name, "t": jr.now(),
                 "text": text, "record_sha256": state["signed"]["worker"].get("answers_sha256")}
        [written] = jr.append_events(journal_path(path), [event], lock=False)
    return written


# ---------------------------------------------------------------- finalize support


def embed(path: Path, nb: dict[str, Any]) -> None:
    """Copy signatures/addenda into the notebook metadata and show them in a markdown cell.

    Called by ``record.finalize`` while it holds the workbook lock; mutates ``nb``.
    """
    jd = jr.read_journal(journal_path(path))
    events = {_seq(e): e for e in _embedded_events(nb)}
    events |= {_seq(e): e for e in jd.events if e.get("type") in ("sign", "addendum")}
    if not events:
        return
    ordered = [events[k] for k in sorted(events)]
    data: dict[str, Any] = {
        "signatures": [e for e in ordered if e.get("type") == "sign"],
        "addenda": [e for e in ordered if e.get("type") == "addendum"],
        "journal_head": ({"seq": jd.events[-1].get("seq"), "h": jd.events[-1].get("h")}
                         if jd.events else _embedded(nb).get("journal_head")),
    }
    nb["metadata"]["supervision_kit"][SIGNOFF_META] = data
    text = signoff_markdown(data["signatures"], data["addenda"])
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("supervision_kit", {}).get(SIGNOFF_CELL):
            cell["source"] = text
            return
    import uuid

    cell = {"cell_type": "markdown", "id": uuid.uuid4().hex[:12], "source": text,
            "metadata": {"supervision_kit": {SIGNOFF_CELL: True}}}
    at = next((i for i, c in enumerate(nb["cells"])
               if "signoff" in c.get("metadata", {}).get("tags", [])), len(nb["cells"]))
    nb["cells"].insert(at, cell)


def signoff_markdown(signatures: list[dict[str, Any]], addenda: list[dict[str, Any]]) -> str:
    """Readable, escaped markdown of the latest signatures and every addendum."""
    from .record import escape_md

    lines = ["## Sign-off", ""]
    latest = _latest_signatures(signatures)
    for role in ROLES:
        s = latest.get(role)
        if s:
            lines.append(f"- **{role.capitalize()}**: {escape_md(s.get('name', ''))}, signed "
                         f"{escape_md(_when(s))} UTC (answers SHA-256 "
                         f"`{str(s.get('answers_sha256', ''))[:16]}`)")
        else:
            lines.append(f"- **{role.capitalize()}**: not signed yet")
    lines.append("")
    lines.append("🔒 Locked: signed by both." if _is_locked(latest) else "Not locked yet.")
    if addenda:
        lines += ["", "### Addenda (added after sign-off)"]
        for a in addenda:
            who = escape_md(a.get("role", "")) + (f" ({escape_md(a['name'])})"
                                                   if a.get("name") else "")
            lines += ["", f"**{escape_md(_when(a))} UTC — {who}**", ""]
            lines += ["> " + (escape_md(line) or "&nbsp;") + "  "
                      for line in str(a.get("text", "")).split("\n")]
    return "\n".join(lines)


def _when(ev: dict[str, Any]) -> str:
    return str(ev.get("t", ""))[:19].replace("T", " ")


# ---------------------------------------------------------------- verify


@dataclass
class Verification:
    path: str
    signatures: dict[str, dict[str, Any]] = field(default_factory=dict)
    addenda: list[dict[str, Any]] = field(default_factory=list)
    locked: bool = False
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fingerprint: str = ""  # hash of the last journal event: note it elsewhere to pin history

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """Human-readable report."""
        out = []
        for role in ROLES:
            s = self.signatures.get(role)
            out.append(f"{role}: " + (f"signed by {s.get('name')} at {_when(s)} UTC"
                                      if s else "not signed"))
        out.append("locked: " + ("yes" if self.locked else "no"))
        for a in self.addenda:
            out.append(f"addendum: {a.get('role')} at {_when(a)} UTC")
        if self.fingerprint:
            out.append(f"fingerprint: {self.fingerprint[:16]}")
        out += [f"note: {n}" for n in self.notes]
        out += [f"CHANGED: {p}" for p in self.problems]
        out.append("verification: " + ("OK" if self.ok else f"FAILED ({len(self.problems)} "
                                                                 "problem(s))"))
        return out


def _what(ev: dict[str, Any]) -> str:
    kind = ev.get("type", "answer")
    if kind == "sign":
        return f"the {ev.get('role')}'s signature"
    if kind == "addendum":
        return f"the {ev.get('role')}'s addendum of {_when(ev)}"
    return f"answer to {ev.get('id')!r}"


def check_chain(events: list[dict[str, Any]]) -> list[str]:
    """Problems in a journal's hash chain (altered, removed, inserted or reordered events)."""
    problems = []
    prev = jr.GENESIS
    for n, ev in enumerate(events, 1):
        if ev.get("prev") != prev:
            problems.append(f"journal event {n} ({_what(ev)}): the hash chain breaks before it "
                            "(an earlier event was removed, inserted or altered)")
        if ev.get("h") != jr.chain_hash(str(ev.get("prev", "")), ev):
            problems.append(f"{_what(ev)} (journal event {n}) was altered after it was written")
        prev = ev.get("h")
    return problems


def verify(path: str | Path) -> Verification:
    """Check journal chain, signatures, addenda and the notebook's shown answers.

    Needs only the files: the .ipynb and, if present, its journal.
    """
    from .record import _merged, load_notebook, notebook_answers, prompt_index, workbook_info

    path = Path(path)
    nb = load_notebook(path)
    rep = Verification(str(path))
    info, prompts = workbook_info(nb), prompt_index(nb)
    jpath = journal_path(path)
    jd = jr.read_journal(jpath)
    if jd.torn_tail:
        rep.notes.append("the journal ends in an incomplete line (a crash while saving); ignored")
    if jd.bad_lines:
        rep.notes.append(f"unreadable journal line(s) {jd.bad_lines[:5]} ignored")
    rep.problems += check_chain(jd.events)
    embedded = _embedded(nb)
    emb_events = _embedded_events(nb)
    for e in emb_events:
        if e.get("h") != jr.chain_hash(str(e.get("prev", "")), e):
            rep.problems.append(f"{_what(e)} copied into the .ipynb was altered")
    if jpath.exists():
        by_seq = {_seq(e): e for e in jd.events}
        for e in emb_events:
            if by_seq.get(_seq(e), {}).get("h") != e.get("h"):
                rep.problems.append(f"{_what(e)} recorded in the .ipynb is missing from or "
                                    "different in the journal (journal rewritten?)")
        head = embedded.get("journal_head")
        if isinstance(head, dict) and by_seq.get(_seq(head), {}).get("h") != head.get("h"):
            rep.problems.append("the journal no longer holds the history the .ipynb was "
                                "finalized with (journal rewritten or truncated)")
        events = jd.events
        journal_answers = jd.answers()
    else:
        events = emb_events
        journal_answers = {}
        if emb_events:
            rep.notes.append("no journal beside the workbook: verified from the .ipynb alone")
    rep.fingerprint = str(events[-1].get("h", "")) if events else ""
    rep.signatures = _latest_signatures(events)
    rep.addenda = [e for e in events if e.get("type") == "addendum"]
    rep.locked = _is_locked(rep.signatures)

    merged = {pid: a["v"] for pid, a in _merged(path, nb).items()} if jpath.exists() else \
        {pid: a["v"] for pid, a in notebook_answers(nb).items()}
    total, current = answers_digest(merged)
    for role, s in rep.signatures.items():
        for key, want in (("workbook_id", info.get("id")), ("template", info.get("template")),
                          ("template_version", info.get("template_version"))):
            if s.get(key) != want:
                rep.problems.append(f"the {role}'s signature is for {key} {s.get(key)!r}, but "
                                    f"this workbook has {want!r}")
        diffs = _diff(s.get("prompts"), current)
        rep.problems += [f"answer to {pid!r} ({_label(prompts, pid)}) was {how} after the "
                         f"{role} signed" for pid, how in diffs]
        if not diffs and s.get("answers_sha256") != total:
            rep.problems.append(f"the {role}'s signature was altered (its answers hash does not "
                                "match)")
    embedded_seqs = {_seq(e) for e in emb_events if e.get("type") == "sign"}
    rep.problems += _check_outputs(nb, prompts, rep.signatures, journal_answers, embedded_seqs)
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("supervision_kit", {}).get(SIGNOFF_CELL):
            want = signoff_markdown(embedded.get("signatures", []), embedded.get("addenda", []))
            if _text(cell.get("source")) != want:
                rep.problems.append("the sign-off / addenda text shown in the .ipynb was edited")
    rep.problems = list(dict.fromkeys(rep.problems))
    return rep


def _label(prompts: dict[str, dict[str, Any]], pid: str) -> str:
    label = str(prompts.get(pid, {}).get("label", "unknown prompt"))
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


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value if value is not None else "")


def _check_outputs(
    nb: dict[str, Any], prompts: dict[str, dict[str, Any]], sigs: dict[str, dict[str, Any]],
    journal_answers: dict[str, dict[str, Any]], embedded_seqs: set[int],
) -> list[str]:
    """Answers shown in the .ipynb: consistent with their own record, and with signatures.

    An output older than the journal's answer is superseded (a live mirror saved earlier),
    unless the signature was copied into this notebook at finalize: then every output counts.
    """
    from .record import ANSWER_MIME, answer_cells, answer_output

    problems: list[str] = []
    shown: dict[str, Any] = {}
    for i, pid in answer_cells(nb):
        if pid not in prompts:
            continue
        for out in nb["cells"][i].get("outputs", []) or []:
            data = out.get("data", {}) if isinstance(out, dict) else {}
            rec = data.get(ANSWER_MIME) if isinstance(data, dict) else None
            if not isinstance(rec, dict):
                continue
            value, t = rec.get("value"), str(rec.get("t", ""))
            shown[pid] = value
            try:
                expect = answer_output(prompts[pid], value, t)["data"]
            except Exception:  # a value of the wrong shape cannot have been written by us
                expect = {}
            for mime in ("text/markdown", "text/plain"):
                if mime in data and _text(data[mime]) != expect.get(mime):
                    problems.append(f"answer to {pid!r}: the text shown in the .ipynb was edited "
                                    "by hand (it differs from the recorded answer)")
            jev = journal_answers.get(pid)
            if jev is not None and t < str(jev.get("t", "")):
                continue  # superseded by a newer journal answer
            digest = sha256_of(normalise(value)) if is_answered(value) else None
            for role, s in sigs.items():
                if (s.get("prompts") or {}).get(pid) != digest:
                    problems.append(f"answer to {pid!r} ({_label(prompts, pid)}) in the .ipynb "
                                    f"differs from what the {role} signed")
    for role, s in sigs.items():  # finalized after signing: every signed answer must be shown
        if _seq(s) in embedded_seqs:
            for pid, digest in (s.get("prompts") or {}).items():
                value = shown.get(pid)
                if pid in prompts and (sha256_of(normalise(value)) if is_answered(value)
                                       else None) != digest:
                    problems.append(f"answer to {pid!r} ({_label(prompts, pid)}) in the .ipynb "
                                    f"differs from what the {role} signed")
    return problems


# ---------------------------------------------------------------- history


def history(path: str | Path) -> list[dict[str, Any]]:
    """Every journal event in order: seq, t, type, role, prompt id, a short summary."""
    from .record import load_notebook

    path = Path(path)
    load_notebook(path)
    rows = []
    for ev in jr.read_journal(journal_path(path)).events:
        kind = ev.get("type", "answer")
        if kind == "sign":
            summary = f"signed by {ev.get('name')} (answers {str(ev.get('answers_sha256'))[:12]})"
        elif kind == "addendum":
            summary = short(ev.get("text"))
        else:
            summary = short(ev.get("v"))
        rows.append({"seq": ev.get("seq"), "t": ev.get("t"), "type": kind,
                     "role": ev.get("role") or ev.get("by"), "id": ev.get("id"),
                     "summary": summary})
    return rows


def short(value: Any, width: int = 60) -> str:
    """One-line preview of a value."""
    import json

    if value is None:
        text = "(cleared)"
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False)
    text = " ⏎ ".join(text.splitlines()) if "\n" in text else text
    return text if len(text) <= width else text[: width - 1] + "…"


# ---------------------------------------------------------------- the sign button


def signoff_panel(wb: Any) -> Any:
    """Sign buttons for each role in the workbook (the hidden ``wb.signoff_panel()`` cell).

    Returns the panel widget (already displayed).
    """
    import html

    import ipywidgets as W
    from IPython.display import display

    status = W.HTML()
    message = W.HTML()
    buttons: list[Any] = []
    rows = []
    for role in ROLES:
        name = W.Text(value=str(wb.info.get(role, "")), placeholder=f"{role}'s name or initials",
                      layout=W.Layout(width="260px"))
        btn = W.Button(description=f"Sign as {role}", icon="check", button_style="success",
                       layout=W.Layout(width="200px"))
        btn.on_click(lambda _b, role=role, name=name: _click(role, name.value))
        buttons.append(btn)
        rows.append(W.HBox([name, btn]))
    add_role = W.Dropdown(options=list(ROLES), layout=W.Layout(width="160px"))
    add_text = W.Textarea(placeholder="Addendum: what needs adding or correcting, and why",
                          layout=W.Layout(width="100%"), rows=3)
    add_btn = W.Button(description="Add addendum", icon="plus")
    addendum_box = W.VBox([add_text, W.HBox([add_role, add_btn])])

    def refresh() -> None:
        state = lock_state(wb.path)
        parts = []
        for role in ROLES:
            s = state["signed"].get(role)
            parts.append(f"<b>{role.capitalize()}</b>: " + (
                f"signed by {html.escape(str(s.get('name')))} at {html.escape(_when(s))} UTC"
                if s else "not signed yet"))
        if state["locked"]:
            parts.append("🔒 <b>The record is locked.</b> Answers become read-only the next "
                         "time the workbook runs; add an addendum below to change anything.")
        status.value = "<br>".join(parts)
        for b in buttons:
            b.disabled = state["locked"]
        addendum_box.layout.display = None if state["locked"] else "none"
        if state["locked"]:
            wb.locked = True
            for f in getattr(wb, "fields", {}).values():
                _disable(f.widget)

    def _click(role: str, name: str) -> None:
        try:
            wb.writer.flush()
            res = sign(wb.path, role, name)
            message.value = html.escape(f"Signed as {role}. " + (res["waiting"] or ""))
        except KitError as exc:
            message.value = f"<span style='color:#b00020'>⚠️ {html.escape(str(exc))}</span>"
        refresh()

    def _add(_b: Any) -> None:
        try:
            add_addendum(wb.path, add_role.value, add_text.value)
            add_text.value = ""
            message.value = "Addendum added."
        except KitError as exc:
            message.value = f"<span style='color:#b00020'>⚠️ {html.escape(str(exc))}</span>"
        refresh()

    add_btn.on_click(_add)
    refresh()
    panel = W.VBox([W.HTML("<h3>Sign-off</h3>"), *rows, status, addendum_box, message])
    display(panel)
    return panel


def _disable(widget: Any) -> None:
    if hasattr(widget, "disabled"):
        widget.disabled = True
    for child in getattr(widget, "children", ()):
        _disable(child)
