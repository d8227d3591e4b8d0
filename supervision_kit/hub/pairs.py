"""Worker-supervisor pairs on a JupyterHub: who shares which folder, under which group.

The programme's admin keeps one CSV (``pairs.csv``, never inside a store)::

    worker_user,worker_name,supervisor_user,supervisor_name
    alice,A. Okafor,bob,B. Lindqvist

Each pair gets one group folder ``<root>/pairs/<worker_user>--<supervisor_user>/`` owned by
root and a POSIX group of its own (``skp-`` + a short hash of the pair), mode 2770 with a
default ACL, so exactly those two accounts can read and write it. This module is plain data
and standard library only: the hub's own environment (which runs ``provision``) and the
users' kernels (which run the launcher) both import it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

COLUMNS = ("worker_user", "worker_name", "supervisor_user", "supervisor_name")
ID_COLUMNS = ("worker_uid", "supervisor_uid", "gid")  # numeric ids, zero-to-jupyterhub only
ENV_PAIRS = "SUPERVISION_KIT_PAIRS"  # a user's own pairs file (JSON), set by the hub
MY_PAIRS = ".pairs.json"  # in the user's ~/supervision/ folder
_ACCOUNT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")


class PairsError(ValueError):
    """The pairs file is malformed."""


@dataclass(frozen=True)
class Pair:
    worker_user: str
    worker_name: str
    supervisor_user: str
    supervisor_name: str

    @property
    def folder(self) -> str:
        """The pair folder's name (safe: both accounts are checked)."""
        return f"{self.worker_user}--{self.supervisor_user}"

    @property
    def group(self) -> str:
        """The pair's POSIX group: short (Linux allows 32 characters) and stable."""
        digest = hashlib.sha256(self.folder.encode()).hexdigest()[:12]
        return f"skp-{digest}"

    def role_of(self, user: str) -> str | None:
        if user == self.worker_user:
            return "worker"
        if user == self.supervisor_user:
            return "supervisor"
        return None

    def label_for(self, user: str) -> str:
        """The name of the pair's link in ``user``'s ~/supervision folder."""
        if user == self.worker_user:
            return f"with-{self.supervisor_user}"
        return f"{self.worker_user}"

    def accounts(self) -> dict[str, str]:
        return {"worker_user": self.worker_user, "supervisor_user": self.supervisor_user}


def _account(value: str, what: str, line: int) -> str:
    value = (value or "").strip()
    if not _ACCOUNT.fullmatch(value) or "--" in value:
        raise PairsError(f"line {line}: {what} {value!r} is not a hub account name")
    return value


def _name(value: str, what: str, line: int) -> str:
    value = " ".join((value or "").split())
    if not value or len(value) > 120 or any(ord(c) < 32 for c in value):
        raise PairsError(f"line {line}: {what} must be a name or initials")
    return value


def parse_pairs(text: str) -> list[Pair]:
    """Pairs from CSV text (header row required; ``#`` lines ignored)."""
    rows = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(rows)
    fields = tuple(reader.fieldnames or ())
    if fields[:4] != COLUMNS or not set(fields[4:]) <= set(ID_COLUMNS):
        raise PairsError(f"the header must be: {','.join(COLUMNS)} (then optionally "
                         f"{','.join(ID_COLUMNS)} for zero-to-jupyterhub)")
    pairs: list[Pair] = []
    seen: set[str] = set()
    for n, row in enumerate(reader, 2):
        pair = Pair(_account(row["worker_user"], "worker_user", n),
                    _name(row["worker_name"], "worker_name", n),
                    _account(row["supervisor_user"], "supervisor_user", n),
                    _name(row["supervisor_name"], "supervisor_name", n))
        if pair.worker_user == pair.supervisor_user:
            raise PairsError(f"line {n}: a worker cannot supervise themselves")
        if pair.folder in seen:
            raise PairsError(f"line {n}: the pair {pair.folder} appears twice")
        seen.add(pair.folder)
        pairs.append(pair)
    return pairs


def read_pairs(path: str | os.PathLike[str]) -> list[Pair]:
    return parse_pairs(Path(path).read_text(encoding="utf-8"))


def pairs_of(pairs: list[Pair], user: str) -> list[Pair]:
    return [p for p in pairs if p.role_of(user)]


def my_pairs_json(pairs: list[Pair], user: str, root: str | os.PathLike[str]) -> str:
    """What the hub writes into a user's ~/supervision/.pairs.json: their own pairs only,
    with each pair folder's path and the link name in their home."""
    return json.dumps([{**asdict(p), "role": p.role_of(user), "path":
                        str(Path(root) / "pairs" / p.folder), "label": p.label_for(user)}
                       for p in pairs_of(pairs, user)], indent=1) + "\n"


def load_my_pairs(path: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """The current user's pairs (launcher side): ``$SUPERVISION_KIT_PAIRS`` (a file, or the
    JSON itself as zero-to-jupyterhub passes it) or ``~/supervision/.pairs.json``; empty when
    there is none."""
    value = str(path or os.environ.get(ENV_PAIRS) or Path.home() / "supervision" / MY_PAIRS)
    try:
        data = json.loads(value if value.lstrip().startswith("[")
                          else Path(value).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []
