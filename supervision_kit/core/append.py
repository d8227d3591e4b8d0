"""The one append path: every change to a record (fill, the kernel's debounced writer, workshop
resume, sign, addenda) is written by ``append``.

It holds the workbook lock, reads the record's state **from disk under that lock**, and
applies the lock rule: once both roles have signed the same answers, only ``addendum`` and
evidence ``tag`` events (``state.AFTER_LOCK``) are accepted, whichever process asks (a kernel
opened before the signatures finds out at its next write). ``build`` may be a function of the
current record, so an event that depends on the state (a signature over the current answers)
is computed under the same lock.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .errors import LockedError
from .journal import open_for_append, write_events
from .lock import workbook_lock
from .state import AFTER_LOCK
from .store import journal_path
from .workbook import Record, open_record

Events = Iterable[dict[str, Any]]


def locked_error(rec: Record) -> LockedError:
    st = rec.state
    return LockedError(
        f"{rec.path.name} is {st.describe()}; it can no longer change (add an addendum "
        "instead)", path=rec.path, locked_by=st.names, locked_at=st.locked_at)


def append(path: str | os.PathLike[str], build: Events | Callable[[Record], Events], *,
           wait: float | None = None, what: str = "") -> list[dict[str, Any]]:
    """Append events to the workbook's journal under its lock; returns the written events
    (with seq, t, prev and h). Raises LockedError for anything but an addendum or a tag once
    locked."""
    p = Path(path)
    with workbook_lock(p, wait=wait, what=what):
        rec = open_record(p)
        events = [dict(e) for e in (build(rec) if callable(build) else build)]
        if rec.locked and any(e.get("type", "answer") not in AFTER_LOCK for e in events):
            raise locked_error(rec)
        if not events:
            return []
        fd = open_for_append(journal_path(p))
        try:
            return write_events(fd, events)
        finally:
            os.close(fd)
