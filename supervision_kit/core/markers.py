"""The "open in a kernel" marker: a running kernel keeps ``.<workbook>.kernel.json`` beside a
workbook it has open, so ``finalize`` can refuse while a browser might overwrite the file."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from pathlib import Path
from typing import Any

from .data import parse_json, read_regular
from .errors import WorkbookError
from .store import open_private

MAX_MARKER = 4096


def kernel_marker(path: Path) -> Path:
    return path.with_name(f".{path.name}.kernel.json")


def mark_open(path: Path, since: str) -> None:
    """Write this process's marker (never through a symlink; a symlink is left alone)."""
    data = {"pid": os.getpid(), "host": socket.gethostname(), "since": since}
    with contextlib.suppress(OSError, WorkbookError):
        fd = open_private(kernel_marker(path), os.O_WRONLY | os.O_CREAT, "kernel marker")
        try:
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps(data).encode())
        finally:
            os.close(fd)


def clear_mark(path: Path) -> None:
    marker = kernel_marker(path)
    with contextlib.suppress(OSError, WorkbookError, ValueError, AttributeError):
        info = parse_json(read_regular(marker, MAX_MARKER, "kernel marker"), marker)
        if info.get("pid") == os.getpid() and not marker.is_symlink():
            marker.unlink()


def open_in_kernel(path: Path) -> dict[str, Any] | None:
    """The marker of a live kernel that has this workbook open, if any."""
    marker = kernel_marker(path)
    try:
        info = parse_json(read_regular(marker, MAX_MARKER, "kernel marker"), marker)
        pid = int(info["pid"])
    except (WorkbookError, ValueError, KeyError, TypeError):
        return None
    if info.get("host") != socket.gethostname():
        return info  # another machine: cannot check, assume open
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except (PermissionError, OverflowError, ValueError):
        pass
    return info
