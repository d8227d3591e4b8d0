"""Binder launch links, from ONE setting: the repository Binder builds.

The setting is ``binder_repo`` ("ORG/REPO" on GitHub) and optionally ``binder_ref`` (default
"main") in ``[tool.supervision-kit]`` of the repository's ``pyproject.toml``; the environment
variables ``SUPERVISION_KIT_BINDER_REPO`` / ``SUPERVISION_KIT_BINDER_REF`` override it (for a
fork, or a trainer's own repository). The README badge, the workshop start page and the
facilitator index all use ``launch_url``; a link's ``urlpath`` is the file's path relative to
the repository root, however the folder was given (``--out /abs/path/inside/repo`` works).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..core.errors import InputError

ENV_REPO = "SUPERVISION_KIT_BINDER_REPO"
ENV_REF = "SUPERVISION_KIT_BINDER_REF"
BINDER = "https://mybinder.org/v2/gh"
BADGE = "https://mybinder.org/badge_logo.svg"
START_PATH = "workbooks/workshop/START.ipynb"  # what binder/postBuild makes and the badge opens


@dataclass
class BinderRepo:
    repo: str  # "ORG/REPO", or "" when not set
    ref: str
    root: Path | None  # the repository's folder, when known

    def launch_url(self, rel: str) -> str | None:
        """``https://mybinder.org/v2/gh/ORG/REPO/REF?urlpath=lab/tree/<rel>`` for a path
        relative to the repository root; None when no repository is set."""
        if not self.repo:
            return None
        return f"{BINDER}/{self.repo}/{quote(self.ref, safe='')}?urlpath=" + quote(
            f"lab/tree/{rel}", safe="/")

    def relative(self, path: str | os.PathLike[str]) -> str | None:
        """``path`` (absolute, or relative to the current folder) relative to the repository
        root; None when it is not inside the repository (or no repository was found)."""
        if self.root is None:
            return None
        try:
            return Path(path).resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return None

    def link_for(self, path: str | os.PathLike[str]) -> str | None:
        """The launch link that opens the file at ``path`` (None if it cannot have one)."""
        rel = self.relative(path)
        return None if rel is None else self.launch_url(rel)


def repo_root(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The repository folder at or above ``start``: the first with a pyproject.toml that has a
    ``[tool.supervision-kit]`` table, else the first with a ``.git``."""
    here = Path(start if start is not None else Path.cwd()).resolve()
    candidates = [here, *here.parents]
    for folder in candidates:
        if _settings_in(folder) is not None:
            return folder
    for folder in candidates:
        if (folder / ".git").exists():
            return folder
    return None


def _settings_in(folder: Path) -> dict[str, object] | None:
    try:
        data = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    table = data.get("tool", {}).get("supervision-kit")
    return table if isinstance(table, dict) else None


def binder_repo(start: str | os.PathLike[str] | None = None,
                environ: dict[str, str] | None = None) -> BinderRepo:
    """The Binder setting of the repository holding ``start``, else of the current folder's
    repository, else of this package's source checkout; the environment overrides the file.
    ``root`` is that repository's folder (a ``start`` outside it gets no launch link)."""
    env = os.environ if environ is None else environ
    try:
        here: Path | None = Path.cwd()
    except OSError:  # the current folder was deleted
        here = None
    places = [p for p in (start, here, Path(__file__).resolve().parent) if p is not None]
    roots = [r for r in (repo_root(p) for p in places) if r is not None]
    root = next((r for r in roots if _settings_in(r) is not None), roots[0] if roots else None)
    table = (_settings_in(root) if root else None) or {}
    repo = str(env.get(ENV_REPO) or table.get("binder_repo") or "").strip().strip("/")
    ref = str(env.get(ENV_REF) or table.get("binder_ref") or "main").strip()
    return BinderRepo(repo, ref, root)


def badge_markdown(setting: BinderRepo | None = None) -> str:
    """The README's Binder badge (opens the workshop start page)."""
    setting = setting or binder_repo()
    url = setting.launch_url(START_PATH)
    if url is None:
        raise InputError(f"no Binder repository set: add binder_repo = \"ORG/REPO\" to "
                         f"[tool.supervision-kit] in pyproject.toml, or set ${ENV_REPO}")
    return f"[![Launch the workshop on Binder]({BADGE})]({url})"
