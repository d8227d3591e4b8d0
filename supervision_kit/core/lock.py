"""The workbook lock: one cross-platform file lock (``filelock``) per workbook.

Every writer (fill, the kernel's debounced writer, sign, addenda, finalize, workshop resume)
holds it while it reads the record's state and appends, so the lock rule in ``append`` is
applied to what is on disk, not to what a process remembers. The lock file is hidden beside
the workbook (``.<name>.lock``); after acquiring it the holder writes who it is into it, so a
waiter that gives up can say who held it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import BusyError
from .store import file_mode, no_symlink

DEFAULT_WAIT = 15.0  # seconds; appends take milliseconds, finalize well under a second
ENV_WAIT = "SUPERVISION_KIT_LOCK_WAIT"  # seconds, for scripts that would rather fail fast


def lock_path(workbook: Path) -> Path:
    return workbook.with_name(f".{workbook.name}.lock")


def _holder(path: Path) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(path, flags)
        try:
            data = json.loads(os.read(fd, 4096) or b"{}")
        finally:
            os.close(fd)
        return data if isinstance(data, dict) else {}
    return {}


def default_wait() -> float:
    try:
        return max(0.0, float(os.environ.get(ENV_WAIT, DEFAULT_WAIT)))
    except ValueError:
        return DEFAULT_WAIT


@contextlib.contextmanager
def workbook_lock(workbook: str | os.PathLike[str], *, wait: float | None = None,
                  what: str = "") -> Iterator[None]:
    """Hold the workbook's lock; after ``wait`` seconds (default 15, or
    ``$SUPERVISION_KIT_LOCK_WAIT``) give up with a BusyError naming the holder (pid, host,
    what it was doing, since when)."""
    from filelock import FileLock, Timeout

    wait = default_wait() if wait is None else wait
    wb = Path(workbook)
    path = lock_path(wb)
    no_symlink(path, "lock file")
    lock = FileLock(str(path), timeout=wait, mode=file_mode(wb.parent), thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        h = _holder(path)
        who = (f"process {h.get('pid')} on {h.get('host')} ({h.get('what') or 'writing'}, "
               f"since {h.get('since', '?')})" if h else "another process")
        raise BusyError(f"{wb.name} is busy: {who} has held its lock for more than {wait:g} s; "
                        "try again in a moment", path=wb, holder=h) from None
    try:
        with contextlib.suppress(OSError):
            fd = os.open(path, os.O_WRONLY | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0))
            try:
                os.write(fd, json.dumps({
                    "pid": os.getpid(), "host": socket.gethostname(),
                    "what": what or Path(sys.argv[0]).name,
                    "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                }).encode())
            finally:
                os.close(fd)
        yield
    finally:
        lock.release()
