"""The durable answer log beside each workbook: append-only JSON lines with a hash chain.

Every line is one event: ``{"seq", "t", "type", "id", "v", "by", "prev", "h"}``. ``type`` is
``answer`` (most lines), ``sign`` or ``addendum``. ``h`` is SHA-256 over the previous line's
hash and this line's canonical JSON, so rewriting history is detectable (see signoff.verify).

This module only reads and writes lines; who may write what is decided in ``append`` (the one
append path, which holds the workbook lock). A writer repairs a torn tail left by a killed
writer (by starting a new line), writes whole lines and fsyncs. A reader keeps a last line
without its newline when it is a complete event (so a stripped newline cannot drop a
signature) and reports it; an incomplete last line is ignored and reported.
``DebouncedWriter`` batches keystrokes: a change reaches the disk ``delay`` seconds after the
last one, and at least every ``max_wait`` seconds while someone keeps typing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .data import MAX_JOURNAL, check_depth, fast_json, read_regular
from .errors import BusyError, KitError, WorkbookError
from .store import open_private

GENESIS = "0" * 64


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(obj: Any) -> str:
    """Stable JSON: sorted keys, no spaces, UTF-8 kept (for hashing)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev: str, event: dict[str, Any]) -> str:
    body = {k: v for k, v in event.items() if k != "h"}
    return hashlib.sha256((prev + canonical(body)).encode("utf-8")).hexdigest()


@dataclass
class JournalData:
    events: list[dict[str, Any]] = field(default_factory=list)
    torn_tail: bool = False  # the last line had no newline and was not a complete event
    unterminated: bool = False  # the last line had no newline but was a complete event (kept)
    bad_lines: list[int] = field(default_factory=list)  # 1-based numbers of unreadable lines

    def answers(self) -> dict[str, dict[str, Any]]:
        """Latest answer event per prompt id."""
        out: dict[str, dict[str, Any]] = {}
        for ev in self.events:
            if ev.get("type", "answer") == "answer" and isinstance(ev.get("id"), str):
                out[ev["id"]] = ev
        return out

    @property
    def last_hash(self) -> str:
        return self.events[-1].get("h", GENESIS) if self.events else GENESIS


def _event(line: bytes) -> dict[str, Any] | None:
    ev = fast_json(line, 32)
    if ev is not NotImplemented:
        return ev if isinstance(ev, dict) else None
    if not check_depth(line, 32):
        return None
    try:
        ev = json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    return ev if isinstance(ev, dict) else None


def read_journal(path: Path) -> JournalData:
    """Parse a journal; a missing file is an empty journal. Regular files only, size-limited."""
    data = JournalData()
    try:
        raw = read_regular(path, MAX_JOURNAL, "journal")
    except WorkbookError:
        if not os.path.lexists(path):
            return data
        raise
    lines = raw.split(b"\n")
    last = lines.pop()
    events, bad = data.events, data.bad_lines
    for n, line in enumerate(lines, 1):
        if not line or line.isspace():
            continue
        ev = _event(line)
        if ev is None:
            bad.append(n)
        else:
            events.append(ev)
    if last and not last.isspace():  # no final newline: a killed writer, or someone stripped it
        ev = _event(last)
        if ev is not None and ev.get("h") == chain_hash(str(ev.get("prev", "")), ev):
            data.events.append(ev)
            data.unterminated = True
        else:
            data.torn_tail = True
    return data


def write_events(fd: int, events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Append events to an open journal (the caller holds the workbook lock): each gets seq,
    t, prev and h; a torn tail is closed with a newline first; fsync before returning."""
    events = [dict(e) for e in events]
    if not events:
        return []
    prev, seq, torn = _tail(fd)
    chunks = [b"\n"] if torn else []
    for ev in events:
        seq += 1
        ev.setdefault("type", "answer")
        ev.setdefault("t", now())
        ev.update(seq=seq, prev=prev)
        ev["h"] = prev = chain_hash(prev, ev)
        chunks.append(canonical(ev).encode("utf-8", "surrogatepass") + b"\n")
    os.write(fd, b"".join(chunks))
    os.fsync(fd)
    return events


def open_for_append(path: Path) -> int:
    """The journal opened for appending (created 0600), never through a symlink."""
    return open_private(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, "journal")


def _tail(fd: int) -> tuple[str, int, bool]:
    """(last hash, last seq, torn?) from the end of an open journal."""
    size = os.fstat(fd).st_size
    if size == 0:
        return GENESIS, 0, False
    chunk = 1 << 16
    while True:
        start = max(0, size - chunk)
        buf = os.pread(fd, size - start, start)
        torn = not buf.endswith(b"\n")
        lines = buf.split(b"\n")
        if torn:
            ev = _event(lines[-1])
            if ev is None or ev.get("h") != chain_hash(str(ev.get("prev", "")), ev):
                lines.pop()  # an incomplete line: the next event starts on a new line
        for line in reversed(lines if start == 0 else lines[1:]):
            ev = _event(line)
            if ev is None:
                continue
            try:
                return str(ev.get("h", GENESIS)), int(ev.get("seq", 0)), torn
            except (ValueError, TypeError, OverflowError):
                continue
        if start == 0:
            return GENESIS, 0, torn
        chunk *= 4


class DebouncedWriter:
    """Collect changes and append them to the journal shortly after typing pauses.

    ``put`` is cheap and thread-safe. ``on_flush(events)`` runs after each durable write
    (the widgets use it to update the cell's output mirror). A failed write keeps the answers
    queued, reports through ``on_error(message)`` and is retried after ``max_wait``.
    """

    def __init__(
        self,
        sink: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
        *,
        delay: float = 0.25,
        max_wait: float = 1.0,
        role: Callable[[str], str | None] | str | None = None,
        source: str = "widget",
        on_flush: Callable[[list[dict[str, Any]]], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.sink, self.delay, self.max_wait = sink, delay, max_wait
        self.role, self.source = role, source
        self.on_flush, self.on_error = on_flush, on_error
        self._pending: dict[str, Any] = {}
        self._first: float | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()

    def put(self, prompt_id: str, value: Any) -> None:
        with self._lock:
            self._pending[prompt_id] = value
            t = time.monotonic()
            self._first = self._first or t
            self._schedule(min(self.delay, max(0.0, self._first + self.max_wait - t)))

    def _schedule(self, wait: float) -> None:
        """(Re)start the flush timer; call with ``self._lock`` held."""
        if self._timer:
            self._timer.cancel()
        self._timer = threading.Timer(wait, self._flush_in_background)
        self._timer.daemon = True
        self._timer.start()

    def _flush_in_background(self) -> None:
        with contextlib.suppress(OSError, KitError):  # reported through on_error / the sink
            self.flush()

    def flush(self) -> list[dict[str, Any]]:
        """Write everything pending now (also called at exit and by tests)."""
        with self._write_lock:
            with self._lock:
                pending, self._pending, self._first = self._pending, {}, None
                if self._timer:
                    self._timer.cancel()
                    self._timer = None
            if not pending:
                return []
            events = [
                {"id": pid, "v": v, "src": self.source,
                 "by": self.role(pid) if callable(self.role) else self.role}
                for pid, v in pending.items()
            ]
            try:
                written = self.sink(events)
            except (OSError, BusyError) as exc:  # keep the answers queued, say so, retry
                with self._lock:
                    self._pending = {**pending, **self._pending}
                    self._schedule(self.max_wait)
                if self.on_error:
                    if isinstance(exc, OSError):
                        where = f" to {Path(exc.filename).name}" if exc.filename else ""
                        reason = exc.strerror or str(exc)
                    else:
                        where, reason = "", str(exc)
                    self.on_error(f"could not save{where} ({reason}); retrying")
                raise
            if self.on_flush:
                self.on_flush(written)
            return written
