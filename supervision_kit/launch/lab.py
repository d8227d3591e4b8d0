"""Start JupyterLab set up for filling in one workbook, with JupyterLab's own mechanisms.

``supervision-kit open NB`` (and ``demo``) run JupyterLab on 127.0.0.1 with a random token,
rooted at the workbook's store, and give it a private folder (``.supervision-kit/lab`` beside
the store's workbooks, mode 0700) holding:

- user settings (``--LabApp.user_settings_dir``): no news or update notifications, and the
  shell's ``startMode`` "single": the simple, one-document interface;
- a workspace (``--LabApp.workspaces_dir``, written with jupyterlab_server's own
  ``WorkspacesManager``): the workbook open, the file browser and other side panels closed;
  the printed address opens it (``/lab/workspaces/<id>``, also ``LabApp.default_url``);
- ``labconfig/page_config.json`` (found through ``JUPYTER_CONFIG_PATH``): the news
  ("announcements") extension disabled.

The file browser hides journals, lock files and kernel markers (``ContentsManager.hide_globs``).
Nothing is patched and the user's own Jupyter settings are left alone.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..core.errors import InputError
from ..core.store import make_private_dir

# Jupyter's defaults, plus what a supervision-kit store keeps beside each workbook
HIDE_GLOBS = ["__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*~", "*.so", "*.dylib",
              "*.journal.jsonl", ".*.lock", ".*.kernel.json", ".ipynb_checkpoints"]
NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"
WORKSPACE = "supervision-kit"
PRIVATE = ".supervision-kit"


def hide_globs_arg() -> str:
    return "--ContentsManager.hide_globs=" + json.dumps(HIDE_GLOBS)


def user_settings() -> dict[str, dict[str, Any]]:
    """Plugin id -> settings written into the private user settings folder."""
    return {
        "@jupyterlab/apputils-extension:notification": {
            "fetchNews": "false", "checkForUpdates": False},
        "@jupyterlab/application-extension:shell": {"startMode": "single"},
    }


def workspace(rel: str) -> dict[str, Any]:
    """A JupyterLab workspace: the workbook open, every side panel closed."""
    key = f"notebook:{rel}"
    return {
        "data": {
            "layout-restorer:data": {
                "main": {"dock": {"type": "tab-area", "currentIndex": 0, "widgets": [key]},
                         "current": key},
                "down": {"size": 0, "collapsed": True, "widgets": []},
                "left": {"collapsed": True, "visible": True, "widgets": ["filebrowser"]},
                "right": {"collapsed": True, "visible": True, "widgets": []},
                "relativeSizes": [0, 1, 0],
            },
            key: {"data": {"path": rel, "factory": "Notebook"}},
        },
        "metadata": {"id": WORKSPACE},
    }


def prepare(root: Path, notebook: Path) -> dict[str, Any]:
    """Write the private settings, workspace and page config; return the paths and URL path."""
    from jupyterlab_server.workspaces_handler import WorkspacesManager

    root, notebook = root.resolve(), notebook.resolve()
    try:
        rel = notebook.relative_to(root).as_posix()
    except ValueError:
        raise InputError(f"{notebook} is not inside {root}") from None
    private = make_private_dir(root / PRIVATE / "lab")
    settings = make_private_dir(private / "settings")
    for plugin, values in user_settings().items():
        package, name = plugin.split(":")
        folder = settings / package
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        (folder / f"{name}.jupyterlab-settings").write_text(json.dumps(values, indent=1))
    workspaces = make_private_dir(private / "workspaces")
    WorkspacesManager(str(workspaces)).save(WORKSPACE, json.dumps(workspace(rel)))
    config = make_private_dir(private / "config")
    labconfig = make_private_dir(config / "labconfig")
    (labconfig / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {NEWS_PLUGIN: True}}, indent=1))
    return {"rel": rel, "settings": settings, "workspaces": workspaces, "config": config,
            "url_path": f"/lab/workspaces/{WORKSPACE}"}


def lab_command(root: Path, prepared: dict[str, Any], *, port: int, token: str,
                browser: bool) -> list[str]:
    args = [sys.executable, "-m", "jupyterlab", "--ServerApp.ip=127.0.0.1", f"--port={port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root.resolve()}",
            f"--LabApp.user_settings_dir={prepared['settings']}",
            f"--LabApp.workspaces_dir={prepared['workspaces']}",
            f"--LabApp.default_url={prepared['url_path']}", hide_globs_arg()]
    if not browser:
        args.append("--no-browser")
    if os.geteuid() == 0:  # containers and CI machines often run as root
        args.append("--ServerApp.allow_root=True")
    return args


def with_base_data(env: dict[str, str]) -> dict[str, str]:
    """In a virtual environment made with ``--system-site-packages`` the base interpreter's
    packages are importable but Jupyter does not look in its ``share/jupyter`` (JupyterLab's
    widget extension, Voila's and nbconvert's templates): add it to ``JUPYTER_PATH``."""
    base = Path(sys.base_prefix) / "share" / "jupyter"
    if sys.prefix != sys.base_prefix and base.is_dir():
        paths = [p for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p]
        if str(base) not in paths:
            env["JUPYTER_PATH"] = os.pathsep.join([*paths, str(base)])
    return env


def lab_env(prepared: dict[str, Any]) -> dict[str, str]:
    """The environment: our page_config.json is found first on Jupyter's config path."""
    env = with_base_data(dict(os.environ))
    extra = env.get("JUPYTER_CONFIG_PATH", "")
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(p for p in (str(prepared["config"]), extra) if p)
    return env


def open_url(port: int, token: str, prepared: dict[str, Any]) -> str:
    return f"http://127.0.0.1:{port}{quote(prepared['url_path'])}?token={token}"


def run_lab(notebook: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None,
            port: int = 8888, browser: bool = True) -> Path:
    """Start JupyterLab on ``notebook`` (rooted at ``root``, default: its store, the folder
    above its case folder). Replaces this process with JupyterLab; Ctrl+C stops it."""
    nb = Path(notebook)
    if not nb.is_file() or nb.suffix != ".ipynb":
        raise InputError(f"{notebook}: not a workbook (.ipynb)")
    top = Path(root) if root else _default_root(nb)
    prepared = prepare(top, nb)
    token = secrets.token_hex(24)
    url = open_url(port, token, prepared)
    print(f"open this workbook: {url}")
    print("then choose Run > Run All Cells; stop JupyterLab with Ctrl+C", flush=True)
    args = lab_command(top, prepared, port=port, token=token, browser=browser)
    os.chdir(top)
    os.execve(sys.executable, args, lab_env(prepared))  # JupyterLab takes over this process
    return nb  # not reached


def _default_root(nb: Path) -> Path:
    """The store a workbook lives in: the folder above its case folder when that looks like a
    store (or the workbook's own folder)."""
    folder = nb.resolve().parent
    parent = folder.parent
    looks_like_store = any(p.suffix == ".ipynb" for p in parent.glob("*/*.ipynb"))
    return parent if looks_like_store and parent != folder else folder
