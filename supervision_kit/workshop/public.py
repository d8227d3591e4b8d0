"""Public hosts (mybinder.org), detected from the environment BinderHub gives each server:
workbooks then show a "training only" banner and only workshop workbooks open."""

from __future__ import annotations

import html
import os
from pathlib import Path

from ..core.errors import WorkbookError
from ..core.workbook import load_notebook, workbook_info
from .vignettes import TEMPLATE

# Set by BinderHub's spawner for every launched server (binder_* user options upper-cased).
# JUPYTERHUB_* alone is NOT a public host: organisations run their own private hubs.
BINDER_ENV = ("BINDER_LAUNCH_HOST", "BINDER_REQUEST", "BINDER_REPO_URL",
              "BINDER_PERSISTENT_REQUEST", "BINDER_REF_URL")
ENV_PUBLIC = "SUPERVISION_KIT_PUBLIC_HOST"  # "1" forces public mode, "0" turns it off
BANNER = "training only — do not enter real client information"


# ---------------------------------------------------------------- public hosts


def public_host(environ: dict[str, str] | None = None) -> bool:
    """True on a public Binder (BinderHub env vars) or when $SUPERVISION_KIT_PUBLIC_HOST=1."""
    env = os.environ if environ is None else environ
    forced = env.get(ENV_PUBLIC, "").strip().lower()
    if forced in ("1", "true", "yes"):
        return True
    if forced in ("0", "false", "no"):
        return False
    return any(env.get(k) for k in BINDER_ENV)


def banner_html() -> str:
    """The public-host banner, or '' when not on a public host."""
    if not public_host():
        return ""
    return ("<div class='sk-out sk-public' style='background:#fff3cd;border:2px solid #b58100;"
            "padding:8px 12px;font-weight:bold;color:#1a1a1a'>"
            "<i class='fa fa-exclamation-triangle' aria-hidden='true'></i> Public server: "
            f"{html.escape(BANNER)}.</div>")


def check_public_open(path: Path) -> None:
    """On a public host refuse any workbook that is not a workshop workbook."""
    if not public_host():
        return
    info = workbook_info(load_notebook(path))
    if info.get("template") != TEMPLATE:
        raise WorkbookError(
            f"{path.name}: this is a public training server, so only workshop workbooks open "
            "here; keep supervision records on your organisation's own computer or hub")


