"""The whole store as one pandas DataFrame, with an index cache.

``load_store(store)`` returns one row per workbook × answered prompt. Workbooks are read as
plain JSON (no nbformat) and merged with their journals by the same rule as
``record.read_answers`` (the newest answer wins), so open and finalized workbooks read alike.
Files that cannot be read are skipped and listed in ``df.attrs["skipped"]``.

The index cache ``<store>/.supervision-kit-index.pickle`` (mode 0600: it holds answers) keeps
each workbook's extracted rows keyed by the size and mtime_ns of the .ipynb and of its
journal, so a second read of an unchanged store only lists the folders. It holds plain data
only and is read with an unpickler that refuses every class or function reference, so a
tampered index cannot run code; a damaged one is simply rebuilt.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import KitError
from .prompts import is_answered
from .store import JOURNAL_SUFFIX, atomic_write, check_id, store_root

if TYPE_CHECKING:
    import pandas as pd

INDEX_NAME = ".supervision-kit-index.pickle"
INDEX_FORMAT = 1
PROGRESS_MIN = 300  # show a progress bar above this many workbooks to (re)read
INFO_KEYS = ("case_id", "session_date", "template", "template_version", "worker", "supervisor",
             "id")
COLUMNS = ["case", "date", "template", "version", "worker", "supervisor", "workbook", "section",
           "prompt_id", "kind", "role", "value", "context", "finalized", "path"]

Key = list[int | None]
_META: dict[tuple[Any, ...], tuple[Any, ...]] = {}


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
    gc_on = gc.isenabled()
    gc.disable()  # many small containers, no cycles: collections would only slow the read
    try:
        return _load(root, case, progress, cache)
    finally:
        if gc_on:
            gc.enable()


def _load(root: Path, case: str | None, progress: bool | None, cache: bool) -> pd.DataFrame:
    index_path = root / INDEX_NAME
    old = _read_index(index_path) if cache else {}
    found = _scan(root, case)
    todo = [rel for rel, key in found.items() if old.get(rel, {}).get("key") != key]
    stale = set(todo)
    entries = {rel: old[rel] for rel in found if rel not in stale}
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
    start = os.path.join(root, case) if case else str(root)
    if not os.path.isdir(start):
        return found
    cut = len(os.path.join(str(root), ""))
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
            if e.name.endswith(".ipynb") and not e.is_dir(follow_symlinks=False):
                key: Key = [None, None, None, None]
                with contextlib.suppress(OSError):
                    st = e.stat(follow_symlinks=False)
                    key[0], key[1] = st.st_mtime_ns, st.st_size
                j = names.get(e.name[:-6] + JOURNAL_SUFFIX)
                if j is not None:
                    with contextlib.suppress(OSError):
                        st = j.stat(follow_symlinks=False)
                        key[2], key[3] = st.st_mtime_ns, st.st_size
                found[e.path[cut:].replace(os.sep, "/")] = key
            elif e.is_dir(follow_symlinks=False):
                stack.append(e.path)
    return dict(sorted(found.items()))


def _bar(items: list[str], show: bool) -> Any:
    if not show:
        return items
    from tqdm import tqdm

    return tqdm(items, desc="reading workbooks", unit="wb", file=sys.stderr)


def _extract(path: Path, key: Key) -> dict[str, Any]:
    """One workbook's cache entry: its key, info and answered prompts (or the error)."""
    from .record import _merged, load_notebook, notebook_answers, prompt_index, workbook_info

    try:
        nb = _fast_load(path) or load_notebook(path)  # the slow path words the error
        finalized = nb["metadata"]["supervision_kit"].get("finalized")
        if key[2] is None or _before(key[2], finalized):
            merged = notebook_answers(nb)  # nothing in the journal that finalize did not write
        else:
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
        m = (p.get("section"), p.get("kind"), p.get("role", "worker") if p else None)
        meta.append(_META.setdefault(m, m))  # one shared tuple per combination
        values.append(v)
        if isinstance(p.get("context"), dict):
            ctx[pid] = p["context"]
    return {
        "key": key,
        "info": {k: info.get(k) for k in INFO_KEYS} | {"finalized": bool(finalized)},
        "ids": ids, "meta": meta, "values": values, "context": ctx,
    }


def _fast_load(path: Path) -> dict[str, Any] | None:
    """The notebook when it is plainly one of ours; None sends it to load_notebook."""
    import json

    try:
        if os.path.islink(path):
            return None
        with open(path, "rb") as fh:
            nb = json.loads(fh.read())
        meta = nb["metadata"]["supervision_kit"]
        if isinstance(nb["cells"], list) and isinstance(meta["prompt_set"], dict):
            return nb
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def _before(mtime_ns: int, finalized: Any, margin_s: float = 2.0) -> bool:
    """True when the journal was last written well before the workbook was finalized.

    finalize merges the whole journal into the .ipynb under the journal's lock, so such a
    journal holds nothing the notebook lacks. A journal touched later (new answers, a copied
    store with fresh mtimes) is read and merged as usual.
    """
    import datetime as dt

    if not isinstance(finalized, str) or not finalized:
        return False
    try:
        when = dt.datetime.fromisoformat(finalized.replace("Z", "+00:00"))
    except ValueError:
        return False
    if when.tzinfo is None:
        return False
    return mtime_ns < (when.timestamp() - margin_s) * 1e9


# ---------------------------------------------------------------- the index cache


class _PlainUnpickler(pickle.Unpickler):
    """Loads only plain data (dict, list, tuple, str, numbers, None): any class or function
    reference is refused, so a tampered index cannot run code."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"index refers to {module}.{name}: not plain data")


def _read_index(path: Path) -> dict[str, dict[str, Any]]:
    try:
        st = path.lstat()
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid():
            return {}  # not a plain file of ours: ignore it (it is rewritten on change)
        with open(path, "rb") as fh:
            data = _PlainUnpickler(fh).load()
        if data.get("format") != INDEX_FORMAT:
            return {}
        files = data["files"]
        if not isinstance(files, dict):
            return {}
        return files
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, KeyError, TypeError,
            AttributeError, IndexError, MemoryError):
        return {}  # missing, stale or damaged: rebuild


def _write_index(path: Path, entries: dict[str, dict[str, Any]]) -> None:
    data = {"format": INDEX_FORMAT, "files": entries}
    with contextlib.suppress(OSError, pickle.PicklingError, TypeError, ValueError,
                             RecursionError):  # a read-only store still reads
        atomic_write(path, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))


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
    metas: list[tuple[Any, ...]] = []
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
    infos = [e["info"] for _rel, e in good]

    def obj(items: list[Any]) -> Any:
        col = np.empty(len(items), dtype=object)
        col[:] = items
        return col

    def info(key: str) -> Any:  # one value per workbook, repeated for its rows
        return obj([i.get(key) for i in infos])[rep]

    # dates are parsed once per workbook, not once per row
    when = pd.to_datetime(pd.Series(obj([i.get("session_date") for i in infos]), dtype=object),
                          errors="coerce", format="ISO8601")
    base = os.path.join(str(root), "")
    meta = np.array(metas, dtype=object).reshape(-1, 3) if metas else np.empty((0, 3), object)
    df = pd.DataFrame({
        "case": info("case_id"),
        "date": when.to_numpy()[rep],
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
        "finalized": np.array([bool(i.get("finalized")) for i in infos], dtype=bool)[rep],
        "path": obj([base + rel for rel, _e in good])[rep],
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
