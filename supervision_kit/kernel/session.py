"""The kernel's session with one open workbook: the small interface the widgets talk to.

It holds the current values, queues changes in a ``DebouncedWriter`` whose every write goes
through the core's one append path (so the lock rule is applied on disk at each write), keeps
the "open in a kernel" marker, and tells the UI through two callbacks: ``on_saved(events)``
after each durable write and ``on_locked(state)`` when a write finds the record locked (signed
by both in another process or browser): the pending changes are dropped, nothing is appended.
No widget code here.
"""

from __future__ import annotations

import atexit
import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.append import append
from ..core.errors import LockedError
from ..core.journal import DebouncedWriter, now
from ..core.markers import clear_mark, mark_open
from ..core.prompts import check_value, is_answered
from ..core.state import RecordState
from ..core.workbook import META, Record, answer_cells, open_record


def app_mode() -> bool:
    """Running under Voila (app mode): the page is never saved as a notebook."""
    return os.environ.get("VOILA_BASE_URL") is not None


class Session:
    """One open workbook in this kernel."""

    def __init__(self, path: Path, *, delay: float = 0.25, max_wait: float = 1.0) -> None:
        rec = open_record(path)
        self.path = path
        self.info: dict[str, Any] = rec.info
        self.prompts: dict[str, dict[str, Any]] = rec.prompts
        self.template: dict[str, Any] = rec.template
        self.values: dict[str, Any] = {pid: a["v"] for pid, a in rec.merged.items()}
        self.times: dict[str, str] = {pid: a["t"] for pid, a in rec.merged.items()}
        self.state: RecordState = rec.state
        self.not_discussed: dict[str, str] = rec.not_discussed
        # workbooks made before one-cell prompts show each question in a markdown cell above
        cells = rec.nb["cells"]
        self.inline_questions = any(cells[i]["metadata"][META].get("question")
                                    for i, _ids in answer_cells(rec.nb))
        self.on_saved: Callable[[list[dict[str, Any]]], None] = lambda events: None
        self.on_locked: Callable[[RecordState], None] = lambda state: None
        self.on_error: Callable[[str], None] = lambda message: None
        self.writer = DebouncedWriter(self._write, delay=delay, max_wait=max_wait,
                                      role=lambda pid: self.prompts.get(pid, {}).get("role",
                                                                                   "worker"),
                                      on_flush=self._saved,
                                      on_error=lambda m: self.on_error(m))
        mark_open(path, now())
        atexit.register(self.close)

    @property
    def locked(self) -> bool:
        return self.state.locked

    # -- writing
    def put(self, prompt_id: str, value: Any) -> Any:
        """Validate and queue one change; returns the value as stored."""
        value = check_value(self.prompts[prompt_id], value)
        if self.locked:
            return value
        self.values[prompt_id] = value
        self.writer.put(prompt_id, value)
        return value

    def _write(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        try:
            return append(self.path, events, what="kernel")
        except LockedError:
            self.refresh()
            with contextlib.suppress(Exception):
                self.on_locked(self.state)
            return []

    def _saved(self, events: list[dict[str, Any]]) -> None:
        for ev in events:
            self.times[ev["id"]] = ev["t"]
        self.on_saved(events)

    def flush(self) -> list[dict[str, Any]]:
        return self.writer.flush()

    def save_now(self, values: dict[str, Any], source: str) -> list[dict[str, Any]]:
        """Write several validated values at once (e.g. restored from an upload)."""
        clean = {pid: check_value(self.prompts[pid], v) for pid, v in values.items()
                 if pid in self.prompts}
        self.flush()
        try:
            written = append(self.path, [
                {"id": pid, "v": v, "src": source, "by": self.prompts[pid].get("role", "worker")}
                for pid, v in clean.items()], what=source)
        except LockedError:
            self.refresh()
            raise
        for ev in written:
            self.values[ev["id"]], self.times[ev["id"]] = ev["v"], ev["t"]
        return written

    # -- reading
    def refresh(self) -> Record:
        """Re-read the record (after a signature, or to learn it was locked elsewhere)."""
        rec = open_record(self.path)
        was_locked, self.state = self.locked, rec.state
        self.not_discussed = rec.not_discussed
        if self.locked and not was_locked:
            self.values = {pid: a["v"] for pid, a in rec.merged.items()}
            self.times = {pid: a["t"] for pid, a in rec.merged.items()}
        return rec

    def answers(self) -> dict[str, Any]:
        return {pid: v for pid, v in self.values.items() if is_answered(v)}

    def close(self) -> None:
        """Flush pending answers and drop the 'open in a kernel' marker."""
        with contextlib.suppress(Exception):
            self.writer.flush()
        clear_mark(self.path)
