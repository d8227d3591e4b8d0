"""The whole store as one pandas DataFrame, with an index cache.

``load_store(store)`` returns one row per workbook × answered prompt. Workbooks are read as
plain JSON (no nbformat) and merged with their journals by the same rule as
``record.read_answers`` (the newest answer wins), so open and finalized workbooks read alike.
Files that cannot be read are skipped and listed in ``df.attrs["skipped"]``.

The index cache ``<store>/.supervision-kit-index.json`` (mode 0600: it holds answers) keeps
each workbook's extracted rows keyed by the size and mtime_ns of the .ipynb and of its
journal, so a second read of an unchanged store only lists the folders.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import KitError
from .prompts import is_answered
from .store import JOURNAL_SUFFIX, atomic_write, check_id, store_root

if TYPE_CHECKING:
    import pandas as pd

INDEX_NAME = ".supervision-kit-index.json"
INDEX_FORMAT = 1
PROGRESS_MIN = 300  # show a progress bar above this many workbooks to (re)read
INFO_KEYS = ("case_id", "session_date", "template", "template_version", "worker", "supervisor",
             "id")
COLUMNS = ["case", "date", "template", "version", "worker", "supervisor", "workbook", "section",
           "prompt_id", "kind", "role", "value", "context", "finalized", "path"]

Key = list[int | None]


def load_store(
    store: str | os.PathLike[str] | None = None,
    *,
    case: str | None = None,
    progress: bool | None = None,
    cache: bool = True,
) -> pd.DataFrame:
    """All answers in the store: one row per workbook × answered prompt.

    Columns: case, date (datetime), template, version, worker, supervisor, workbook (id),
    section, prompt_id, kind, role (who the prompt is for), value (as saved: text, number,
    list or table rows), context (carry-forward prompts: the goal/action they review),
    finalized, path. ``case`` limits the result (and the folder scan) to one case.
    ``df.attrs["skipped"]`` lists ``{"path", "error"}`` for every file that could not be read.
    ``progress`` shows a tqdm bar on stderr (default: when more than 300 workbooks need
    reading and stderr is a terminal). ``cache=False`` neither reads nor writes the index.
    """
    root = store_root(store)
    if case is not None:
        check_id(case)
    index_path = root / INDEX_NAME
    old = _read_index(index_path) if cache else {}
    found = _scan(root, case)
    todo = [rel for rel, key in found.items() if old.get(rel, {}).get("key") != key]
    entries = {rel: old[rel] for rel in found if rel not in todo}
    show = progress if progress is not None else (len(todo) > PROGRESS_MIN
                                                  and sys.stderr.isatty())
    for rel in _bar(todo, show):
        entries[rel] = _extract(root / rel, found[rel])
    if cache and root.is_dir():
        removed = [rel for rel in old if rel not in found and _in_scope(rel, case)]
        if todo or removed:
            keep = {rel: e for rel, e in old.items() if not _in_scope(rel, case)}
            _write_index(index_path, keep | entries)
    return _frame(root, entries)


def wide(df: pd.DataFrame, case: str | None = None) -> pd.DataFrame:
    """One row per workbook (index: date, template), one column per prompt id."""
    rows = df if case is None else df[df["case"] == case]
    index = ["date", "template"]
    if rows[["case", *index]].drop_duplicates().shape[0] != rows["path"].nunique():
        index = ["case", *index, "path"] if case is None else [*index, "path"]
    elif case is None:
        index = ["case", *index]
    out = rows.set_index([*index, "prompt_id"])["value"].unstack("prompt_id")
    order = list(dict.fromkeys(rows["prompt_id"]))
    return out[[c for c in order if c in out.columns]]


def sessions(df: pd.DataFrame) -> pd.DataFrame:
    """One row per workbook: case, date, template, version, worker, supervisor, answers, path."""
    cols = ["case", "date", "template", "version", "worker", "supervisor", "finalized", "path"]
    g = df.groupby(cols, dropna=False, sort=True)
    return g.size().rename("answers").reset_index()


# ---------------------------------------------------------------- scanning


def _in_scope(rel: str, case: str | None) -> bool:
    return case is None or rel.split("/", 1)[0] == case


def _scan(root: Path, case: str | None) -> dict[str, Key]:
    """relative path -> [ipynb mtime_ns, size, journal mtime_ns, size] (None: no journal).

    Same rules as ``store.iter_workbooks``: every .ipynb below the store, skipping hidden
    files and folders (checkpoints, the index).
    """
    found: dict[str, Key] = {}
    start = root / case if case else root
    if not start.is_dir():
        return found
    stack = [start]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                items = [e for e in it if not e.name.startswith(".")]
        except OSError:
            continue
        names = {e.name: e for e in items}
        for e in items:
            if e.is_dir(follow_symlinks=False):
                stack.append(Path(e.path))
            elif e.name.endswith(".ipynb"):
                key: Key = [None, None, None, None]
                with contextlib.suppress(OSError):
                    st = e.stat(follow_symlinks=False)
                    key[0:2] = [st.st_mtime_ns, st.st_size]
                j = names.get(e.name[: -len(".ipynb")] + JOURNAL_SUFFIX)
                if j is not None:
                    with contextlib.suppress(OSError):
                        st = j.stat(follow_symlinks=False)
                        key[2:4] = [st.st_mtime_ns, st.st_size]
                found[Path(e.path).relative_to(root).as_posix()] = key
    return dict(sorted(found.items()))


def _bar(items: list[str], show: bool) -> Any:
    if not show:
        return items
    from tqdm import tqdm

    return tqdm(items, desc="reading workbooks", unit="wb", file=sys.stderr)


def _extract(path: Path, key: Key) -> dict[str, Any]:
    """One workbook's cache entry: its key, info and answered prompts (or the error)."""
    from .record import _merged, load_notebook, prompt_index, workbook_info

    try:
        nb = load_notebook(path)
        merged = _merged(path, nb)
        info = workbook_info(nb)
        prompts = prompt_index(nb)
    except KitError as exc:
        return {"key": key, "error": str(exc)}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # malformed metadata
        return {"key": key, "error": f"{path}: unexpected workbook structure: {exc!r}"}
    order = [pid for pid in prompts if pid in merged] + [p for p in merged if p not in prompts]
    ids, meta, values, ctx = [], [], [], {}
    for pid in order:
        v = merged[pid]["v"]
        if not is_answered(v):
            continue
        p = prompts.get(pid, {})
        ids.append(pid)
        meta.append([p.get("section"), p.get("kind"), p.get("role", "worker") if p else None])
        values.append(v)
        if isinstance(p.get("context"), dict):
            ctx[pid] = p["context"]
    finalized = bool(nb["metadata"]["supervision_kit"].get("finalized"))
    return {
        "key": key,
        "info": {k: info.get(k) for k in INFO_KEYS} | {"finalized": finalized},
        "ids": ids, "meta": meta, "values": values, "context": ctx,
    }


# ---------------------------------------------------------------- the index cache


def _read_index(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_bytes())
        if data.get("format") != INDEX_FORMAT:
            return {}
        metas = data["meta"]
        files = data["files"]
        for e in files.values():  # meta is stored as indices into one shared table
            if "m" in e:
                e["meta"] = [metas[i] for i in e.pop("m")]
        return files
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return {}  # missing, stale or damaged: rebuild


def _write_index(path: Path, entries: dict[str, dict[str, Any]]) -> None:
    table: dict[tuple[Any, ...], int] = {}
    files = {}
    for rel, e in entries.items():
        e = dict(e)
        if "meta" in e:
            e["m"] = [table.setdefault(tuple(m), len(table)) for m in e.pop("meta")]
        files[rel] = e
    data = {"format": INDEX_FORMAT, "meta": [list(m) for m in table], "files": files}
    with contextlib.suppress(OSError, TypeError, ValueError):  # a read-only store still reads
        atomic_write(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")))


# ---------------------------------------------------------------- the frame


def _frame(root: Path, entries: dict[str, dict[str, Any]]) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    skipped = [{"path": str(root / rel), "error": e["error"]}
               for rel, e in entries.items() if "error" in e]
    good = [(rel, e) for rel, e in entries.items() if "error" not in e]
    good.sort(key=lambda x: (str(x[1]["info"].get("case_id") or ""),
                             str(x[1]["info"].get("session_date") or ""), x[0]))
    ids: list[str] = []
    metas: list[list[Any]] = []
    values: list[Any] = []
    contexts: list[Any] = []
    counts = []
    for _rel, e in good:
        ids.extend(e["ids"])
        metas.extend(e["meta"])
        values.extend(e["values"])
        ctx = e.get("context") or {}
        contexts.extend(ctx.get(pid) for pid in e["ids"]) if ctx else contexts.extend(
            [None] * len(e["ids"]))
        counts.append(len(e["ids"]))
    rep = np.repeat(np.arange(len(good)), counts)

    def per_wb(fn: Any) -> Any:
        col = np.empty(len(good), dtype=object)
        col[:] = [fn(rel, e) for rel, e in good]
        return col[rep]

    def obj(items: list[Any]) -> Any:
        col = np.empty(len(items), dtype=object)
        col[:] = items
        return col

    info = lambda k: per_wb(lambda _r, e: e["info"].get(k))  # noqa: E731
    meta = np.array(metas, dtype=object).reshape(-1, 3) if metas else np.empty((0, 3), object)
    df = pd.DataFrame({
        "case": info("case_id"),
        "date": pd.to_datetime(pd.Series(info("session_date"), dtype=object), errors="coerce",
                               format="ISO8601"),
        "template": info("template"),
        "version": info("template_version"),
        "worker": info("worker"),
        "supervisor": info("supervisor"),
        "workbook": info("id"),
        "section": meta[:, 0],
        "prompt_id": obj(ids),
        "kind": meta[:, 1],
        "role": meta[:, 2],
        "value": obj(values),
        "context": obj(contexts),
        "finalized": per_wb(lambda _r, e: bool(e["info"].get("finalized"))).astype(bool),
        "path": per_wb(lambda r, _e: str(root / r)),
    }, columns=COLUMNS)
    df.attrs["skipped"] = skipped
    df.attrs["store"] = str(root)
    return df


def to_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows (dates as YYYY-MM-DD, missing as null)."""
    out = []
    cols = list(df.columns)
    for row in df.itertuples(index=False, name=None):
        rec = dict(zip(cols, row, strict=True))
        d = rec.get("date")
        rec["date"] = None if d is None or d != d else d.strftime("%Y-%m-%d")
        out.append(rec)
    return out
