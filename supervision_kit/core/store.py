"""Store layout, safe ids and paths, private permissions, atomic writes and file locks.

Layout: ``<store>/<case_id>/<YYYY-MM-DD>-<template>.ipynb`` with its journal
``<same stem>.journal.jsonl`` beside it. Folders are 0700 and files 0600 whatever the umask:
supervision records are personal data.

**Group folders** (a programme on JupyterHub, see deploy/README.md): only when
``$SUPERVISION_KIT_SHARED_MODE=group`` is set **and** a folder has the setgid bit (an admin made
it a group folder, mode 2770), the files and folders created inside it are 0660 and 2770, so
the other member of the pair (the folder's group) can read the record and append to it. Every
other folder keeps 0700/0600, and nothing changes without the setting.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError, WorkbookError

ENV_STORE = "SUPERVISION_KIT_STORE"
DEFAULT_STORE = "workbooks"
DIR_MODE = 0o700
FILE_MODE = 0o600
JOURNAL_SUFFIX = ".journal.jsonl"
ENV_SHARED = "SUPERVISION_KIT_SHARED_MODE"  # "group": group folders get 0660/2770
GROUP_DIR_MODE = 0o2770
GROUP_FILE_MODE = 0o660
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def store_root(store: str | os.PathLike[str] | None = None) -> Path:
    """The store folder: the argument, else ``$SUPERVISION_KIT_STORE``, else ``./workbooks``."""
    return Path(store or os.environ.get(ENV_STORE) or DEFAULT_STORE)


def check_id(value: str, what: str = "case id") -> str:
    """Accept letters, digits, '-' and '_' only (1-64 chars): safe as a folder name."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InputError(
            f"invalid {what} {value!r}: use 1-64 letters, digits, '-' or '_' "
            "(a pseudonymous code, never a name)"
        )
    return value


def check_date(value: str | None) -> str:
    """An ISO date (YYYY-MM-DD); today when empty."""
    if not value:
        return dt.date.today().isoformat()
    try:
        return dt.date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise InputError(f"invalid date {value!r}: use YYYY-MM-DD") from None


def workbook_path(store: Path, case_id: str, date: str, template: str) -> Path:
    return store / check_id(case_id) / f"{date}-{check_id(template, 'template name')}.ipynb"


def journal_path(workbook: Path) -> Path:
    """The journal file that sits beside a workbook."""
    name = workbook.name[: -len(".ipynb")] if workbook.name.endswith(".ipynb") else workbook.name
    return workbook.with_name(name + JOURNAL_SUFFIX)


def shared_mode() -> bool:
    """Whether group folders are switched on (``$SUPERVISION_KIT_SHARED_MODE=group``)."""
    return os.environ.get(ENV_SHARED, "").strip().lower() == "group"


def group_folder(folder: str | os.PathLike[str]) -> bool:
    """True when shared mode is on and ``folder`` is a setgid group folder."""
    if not shared_mode():
        return False
    try:
        return bool(os.stat(folder).st_mode & stat.S_ISGID)
    except OSError:
        return False


def file_mode(folder: str | os.PathLike[str]) -> int:
    """Mode for a new file in ``folder``: 0600, or 0660 in a group folder (shared mode)."""
    return GROUP_FILE_MODE if group_folder(folder) else FILE_MODE


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents inside it) with mode 0700 (2770 inside a group
    folder in shared mode)."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir(exist_ok=True)
        os.chmod(d, GROUP_DIR_MODE if group_folder(d.parent) else DIR_MODE)
    return path


def atomic_write(path: Path, data: str | bytes, *, exclusive: bool = False) -> None:
    """Write via temp file + fsync + rename, so readers see the old or the new file, never half.

    With ``exclusive`` the final step refuses to replace an existing file.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    mode = file_mode(path.parent)
    with contextlib.suppress(FileNotFoundError):
        mode = os.stat(path).st_mode & 0o777 or FILE_MODE
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if exclusive:
            os.link(tmp, path)  # fails with FileExistsError if a file appeared meanwhile
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not possible on every platform (Windows)
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def no_symlink(path: Path, what: str = "file") -> None:
    """Refuse a path that is a symbolic link (journals, markers, locks, outputs)."""
    if Path(path).is_symlink():
        raise WorkbookError(f"{path}: the {what} is a symbolic link; refusing to follow it",
                            path=path)


def open_private(path: Path, flags: int, what: str = "file") -> int:
    """``os.open`` with O_NOFOLLOW (a symlink is refused) and mode 0600 for new files (0660 in
    a group folder in shared mode); an existing non-regular file (FIFO, device) is refused
    without blocking."""
    import errno

    extra = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    mode = file_mode(Path(path).parent) if flags & os.O_CREAT else FILE_MODE
    try:
        fd = os.open(path, flags | extra, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise WorkbookError(f"{path}: the {what} is a symbolic link; refusing to follow it",
                                path=path) from None
        if exc.errno == errno.ENXIO:
            raise WorkbookError(f"{path}: the {what} is not a regular file", path=path) from None
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise WorkbookError(f"{path}: the {what} is not a regular file", path=path)
    if mode != FILE_MODE and st.st_uid == os.getuid() and st.st_mode & 0o777 != mode:
        with contextlib.suppress(OSError):
            os.fchmod(fd, mode)  # the umask may have taken the group bits away
    return fd


def iter_workbooks(store: Path) -> Iterator[Path]:
    """Every workbook (.ipynb) in the store, skipping checkpoints and hidden files."""
    for p in sorted(store.rglob("*.ipynb")):
        if not any(part.startswith(".") for part in p.relative_to(store).parts):
            yield p
