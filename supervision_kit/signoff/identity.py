"""Who is signing, under JupyterHub: the authenticated hub user, checked against the hub
accounts the workbook names for each role.

A workbook made with ``new --worker-user U --supervisor-user V`` records
``workbook.worker_user`` and ``workbook.supervisor_user`` in its metadata. When a process runs
in a JupyterHub single-user server (``$JUPYTERHUB_USER`` is set), ``sign`` accepts a role only
from the account named for it: a worker cannot sign as the supervisor, and a workbook that
names no account for the role cannot be signed on the hub at all. Outside a hub there is no
authenticated identity and nothing is checked here (use SSH keys, see ``sshsig``).
See docs/signoff-and-privacy.md ("What a signature proves") for what this does and does not
prove.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..core.errors import IdentityError, InputError
from ..core.state import ROLES

ENV_HUB_USER = "JUPYTERHUB_USER"
ACCOUNT_KEYS = {"worker": "worker_user", "supervisor": "supervisor_user"}
_ACCOUNT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")


def hub_user() -> str | None:
    """The authenticated JupyterHub user this process runs for, or None outside a hub."""
    return os.environ.get(ENV_HUB_USER) or None


def check_account(value: Any, what: str) -> str:
    """A hub account name as JupyterHub spells it (letters, digits, ``._@+-``)."""
    if not isinstance(value, str) or not _ACCOUNT.fullmatch(value):
        raise InputError(f"invalid {what} {value!r}: a JupyterHub user name (letters, digits, "
                         "'.', '_', '@', '+', '-')")
    return value


def accounts(worker_user: str | None, supervisor_user: str | None) -> dict[str, str]:
    """The metadata entries for ``new --worker-user/--supervisor-user`` (checked)."""
    out = {}
    if worker_user:
        out["worker_user"] = check_account(worker_user, "--worker-user")
    if supervisor_user:
        out["supervisor_user"] = check_account(supervisor_user, "--supervisor-user")
    if len(out) == 2 and out["worker_user"] == out["supervisor_user"]:
        raise InputError("--worker-user and --supervisor-user must be different accounts: "
                         "one person cannot sign a record as both")
    return out


def account_for(info: dict[str, Any], role: str) -> str | None:
    value = info.get(ACCOUNT_KEYS[role])
    return str(value) if value else None


def check_signer(info: dict[str, Any], role: str, user: str | None = None) -> str | None:
    """Under a hub: the hub user, after checking it is the account named for ``role``
    (IdentityError otherwise). Outside a hub (no ``user`` and no ``$JUPYTERHUB_USER``): None."""
    user = user or hub_user()
    if not user:
        return None
    expected = account_for(info, role)
    if not expected:
        raise IdentityError(
            f"this workbook names no JupyterHub account for the {role}, so it cannot be signed "
            "on the hub; make session workbooks with --worker-user and --supervisor-user (the "
            "hub's launcher does)", path=info.get("path"))
    if user != expected:
        mine = [r for r in ROLES if account_for(info, r) == user]
        hint = (f"; you can sign as the {mine[0]}" if mine else
                "; you are neither the worker nor the supervisor of this record")
        raise IdentityError(f"you are signed in to the hub as {user!r}, but the {role} of this "
                            f"record is {expected!r}{hint}", path=info.get("path"))
    return user
