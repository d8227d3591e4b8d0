"""Read the summaries of every record in one or more stores, with a per-user cache.

A programme's records are spread over many stores (each user's own, each pair's shared
folder). For each store (one file per top-level folder, so a change rewrites only its part)
the cache keeps, per workbook, the size and mtime of the .ipynb and of its journal and the
record's summary; a refresh lists the folders, compares those numbers and reads again only
what changed. The cache lives in the reader's own cache folder
(``$SUPERVISION_KIT_CACHE``, else ``$XDG_CACHE_HOME/supervision-kit``, else
``~/.cache/supervision-kit``; folders 0700, files 0600: it holds a little of each record), never
in the stores themselves, so a supervisor who can only read a store still gets a warm refresh
and nothing is left in a shared folder. It is plain JSON; a damaged one is rebuilt.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..core.errors import KitError
from ..core.store import JOURNAL_SUFFIX, make_private_dir
from ..core.workbook import open_record
from .summary import SUMMARY_VERSION, summarise

CACHE_FORMAT = 1
ENV_CACHE = "SUPERVISION_KIT_CACHE"
Key = list[int | None]


def cache_root(override: str | os.PathLike[str] | None = None) -> Path:
    if override:
        return Path(override)
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "supervision-kit"


def scan(root: Path) -> dict[str, Key]:
    """Relative path -> [mtime_ns, size, journal mtime_ns, journal size] of every workbook
    below ``root`` (hidden files and folders, and symbolic links, are skipped)."""
    found: dict[str, Key] = {}
    stack = [(str(root), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as it:
                items = {e.name: e for e in it if not e.name.startswith(".")}
        except OSError:
            continue
        for name, e in items.items():
            try:
                if e.is_symlink():
                    continue
                if name.endswith(".ipynb") and e.is_file(follow_symlinks=False):
                    st = e.stat(follow_symlinks=False)
                    key: Key = [st.st_mtime_ns, st.st_size, None, None]
                    j = items.get(name[:-6] + JOURNAL_SUFFIX)
                    if j is not None:
                        jst = j.stat(follow_symlinks=False)
                        key[2:] = [jst.st_mtime_ns, jst.st_size]
                    found[prefix + name] = key
                elif e.is_dir(follow_symlinks=False):
                    stack.append((e.path, f"{prefix}{name}/"))
            except OSError:
                continue
    return found


def _cache_file(cache: Path, root: str) -> Path:
    """One cache file per store and top-level folder (a worker's or a case's folder), so a
    change rewrites only its own part."""
    digest = hashlib.sha256(root.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return cache / "caseload" / f"{digest}.json"


def _load_cache(path: Path, root: str) -> dict[str, Any]:
    try:
        st = path.lstat()
        if not path.is_file() or path.is_symlink() or st.st_uid != os.getuid():
            return {}
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    ok = (isinstance(data, dict) and data.get("format") == CACHE_FORMAT
          and data.get("summary") == SUMMARY_VERSION and data.get("root") == root
          and isinstance(data.get("files"), dict))
    return data["files"] if ok else {}


def _write_cache(path: Path, root: str, files: dict[str, Any]) -> None:
    """Private temp file + rename; a cache that cannot be written is simply not kept."""
    tmp = None
    try:
        make_private_dir(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        data = json.dumps({"format": CACHE_FORMAT, "summary": SUMMARY_VERSION,
                           "root": root, "files": files}, separators=(",", ":"))
        with os.fdopen(fd, "w", encoding="ascii") as fh:  # one write (json.dump writes chunks)
            fh.write(data)
        os.replace(tmp, path)
        tmp = None
    except (OSError, TypeError, ValueError):
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _read(path: Path) -> dict[str, Any]:
    try:
        return summarise(open_record(path))
    except KitError as exc:
        return {"error": str(exc)}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # malformed metadata
        return {"error": f"{path}: unexpected workbook structure: {exc!r}"}


def read_summaries(stores: Sequence[str | os.PathLike[str]], *, cache: bool = True,
                   cache_dir: str | os.PathLike[str] | None = None
                   ) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """(summaries with their ``path`` and ``store``, skipped ``{"path", "error"}``) of every
    record in ``stores``; a record found twice (same id) is listed once."""
    gc_on = gc.isenabled()
    gc.disable()  # many small containers, no cycles: collections would only slow the read
    try:
        return _read_summaries(stores, cache, cache_dir)
    finally:
        if gc_on:
            gc.enable()


def _read_summaries(stores: Sequence[str | os.PathLike[str]], cache: bool,
                    cache_dir: str | os.PathLike[str] | None
                    ) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    out: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    seen_roots: set[str] = set()
    seen_ids: set[Any] = set()
    croot = cache_root(cache_dir)
    for store in stores:
        root = Path(store).resolve()
        if str(root) in seen_roots:
            continue
        seen_roots.add(str(root))
        if not root.is_dir():
            skipped.append({"path": str(store), "error": f"{store}: not a folder"})
            continue
        base = str(root)
        join = os.path.join
        parts: dict[str, dict[str, Key]] = {}
        for rel, key in scan(root).items():
            parts.setdefault(rel.split("/", 1)[0] if "/" in rel else "", {})[rel] = key
        files: dict[str, Any] = {}
        for top, found in parts.items():
            name = f"{base}\0{top}"
            cfile = _cache_file(croot, name)
            old = _load_cache(cfile, name) if cache else {}
            mine: dict[str, Any] = {}
            changed = len(old) != len(found)
            for rel, key in found.items():
                hit = old.get(rel)
                if isinstance(hit, list) and len(hit) == 2 and hit[0] == key \
                        and isinstance(hit[1], dict):
                    summary = hit[1]
                else:
                    summary, changed = _read(Path(join(base, rel))), True
                mine[rel] = [key, summary]
            if cache and changed:
                _write_cache(cfile, name, mine)
            files |= mine
        for rel in sorted(files):
            summary = dict(files[rel][1])  # the cache's entry stays as read
            summary["path"], summary["store"] = join(base, rel), base
            if "error" in summary:
                skipped.append({"path": summary["path"], "error": str(summary["error"])})
                continue
            if summary.get("id") is not None:
                if summary["id"] in seen_ids:
                    continue
                seen_ids.add(summary["id"])
            out.append(summary)
    return out, skipped
