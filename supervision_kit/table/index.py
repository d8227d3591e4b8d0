"""The whole store as one pandas DataFrame, with an index cache.

``load_store(store)`` returns one row per workbook × answered prompt. Workbooks are read as
plain JSON (no nbformat) and merged with their journals by the same rule as
``record.read_answers`` (the newest answer wins), so open and finalized workbooks read alike.
Files that cannot be read are skipped and listed in ``df.attrs["skipped"]``.

The index cache ``<store>/.supervision-kit-index.pickle`` (mode 0600: it holds answers) is
column-oriented: the size and mtime_ns of every .ipynb and of its journal, then the frame's
columns (per workbook, and per answer row). When no file changed, a read lists the folders,
compares those numbers and builds the DataFrame straight from the cached columns; otherwise
only the workbooks whose numbers changed are read again. It holds plain data only and is
read with an unpickler that refuses every class or function reference, so a tampered index
cannot run code; a damaged one is simply rebuilt.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import pickle
import stat
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import KitError
from ..core.prompts import is_answered
from ..core.store import JOURNAL_SUFFIX, check_id, store_root
from ..core.workbook import META, meaning, open_record

if TYPE_CHECKING:
    import pandas as pd

INDEX_NAME = ".supervision-kit-index.pickle"
INDEX_FORMAT = 4  # 4: the review state per workbook
PROGRESS_MIN = 300  # show a progress bar above this many workbooks to (re)read
INFO_KEYS = ("case_id", "session_date", "template", "template_version", "worker", "supervisor",
             "id")
# per-workbook columns of the index (INFO_KEYS in order, then the record kind, finalized and
# the review state: draft, submitted, returned or signed, core/review.py)
BOOK = ("case", "date", "template", "version", "worker", "supervisor", "workbook", "record",
        "finalized", "review")
COLUMNS = ["case", "date", "template", "version", "worker", "supervisor", "workbook", "record",
           "section", "prompt_id", "kind", "role", "meaning", "value", "context", "finalized",
           "review", "path"]

Key = list[int | None]  # [ipynb mtime_ns, size, journal mtime_ns, size] (None: missing)
Desc = tuple[Any, Any, Any, Any, Any]  # a row's prompt: (id, section, kind, role, meaning JSON)


def load_store(
    store: str | os.PathLike[str] | None = None,
    *,
    case: str | None = None,
    progress: bool | None = None,
    cache: bool = True,
    private: bool = False,
) -> pd.DataFrame:
    """All answers in the store: one row per workbook × answered prompt.

    Columns: case, date (datetime), template, version, worker, supervisor, workbook (id),
    section, prompt_id, kind, role (who the prompt is for), value (as saved: text, number,
    list or table rows), context (carry-forward prompts: the goal/action they review),
    finalized, review (draft, submitted, returned or signed: the record's review state),
    path. ``case`` limits the result (and the folder scan) to one case.
    ``df.attrs["skipped"]`` lists ``{"path", "error"}`` for every file that could not be read.
    ``progress`` shows a tqdm bar on stderr (default: when more than 300 workbooks need
    reading and stderr is a terminal). ``cache=False`` neither reads nor writes the index.
    Answers to prompts marked ``private`` (wellbeing, personal impact) are left out unless
    ``private=True``.
    """
    root = store_root(store)
    if case is not None:
        check_id(case)
    gc_on = gc.isenabled()
    gc.disable()  # many small containers, no cycles: collections would only slow the read
    try:
        # a case's answers may sit in any folder (sessions about several cases live in
        # sessions/): read the whole store (the index makes that cheap), then filter
        df = _load(root, None, progress, cache)
    finally:
        if gc_on:
            gc.enable()
    if not private and len(df):
        keep = ~df["meaning"].map(_is_private, na_action="ignore").fillna(False).astype(bool)
        if not keep.all():
            df = df[keep.to_numpy()].reset_index(drop=True)
    if len(df):  # in a session about several cases, a case block's answers are its case's
        own = df["meaning"].map(_case_of, na_action="ignore")
        if own.notna().any():
            df["case"] = own.where(own.notna(), df["case"])
    if case is not None:
        skipped = [x for x in df.attrs.get("skipped", [])
                   if Path(x["path"]).relative_to(root).parts[0] in (case, "sessions")]
        df = df[df["case"] == case].reset_index(drop=True)
        df.attrs["skipped"] = skipped
    return df


def _case_of(m: Any) -> Any:
    return m.get("case") if isinstance(m, dict) else None


def _is_private(m: Any) -> bool:
    return isinstance(m, dict) and bool(m.get("private"))


def _load(root: Path, case: str | None, progress: bool | None, cache: bool) -> pd.DataFrame:
    index_path = root / INDEX_NAME
    old = _read_index(index_path) if cache else None
    found, links = _scan(root, case)
    known: dict[str, Key] = old["files"] if old else {}
    if old and case is None and known == found:  # nothing changed: the cached columns as is
        with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
            return _frame(root, old)
        old, known = None, {}  # columns that do not make a frame: rebuild
    todo = [rel for rel, key in found.items() if known.get(rel) != key]
    removed = any(rel not in found and _in_scope(rel, case) for rel in known)
    write = cache and bool(todo or removed) and root.is_dir()
    fresh = set(todo)
    # unchanged workbooks come from the index; so do other cases' when the index is rewritten
    take = {rel for rel in known
            if (rel in found and rel not in fresh) or (write and not _in_scope(rel, case))}
    entries = _split(old, take) if old else {}
    show = progress if progress is not None else (len(todo) > PROGRESS_MIN
                                                  and sys.stderr.isatty())
    intern: dict[Desc, Desc] = {}
    for rel in _bar(todo, show):
        entries[rel] = _extract(os.path.join(root, rel), found[rel], rel in links, intern)
    data = _join(entries, {rel: found[rel] if rel in found else known[rel] for rel in entries})
    if write:
        _write_index(index_path, data)
    if len(entries) != len(found):  # the index also kept other cases' workbooks
        data = _join({rel: entries[rel] for rel in found}, found)
    return _frame(root, data)


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


def _scan(root: Path, case: str | None) -> tuple[dict[str, Key], set[str]]:
    """(relative path -> Key, the relative paths that are symbolic links).

    Same rules as ``store.iter_workbooks``: every .ipynb below the store, skipping hidden
    files and folders (checkpoints, the index).
    """
    found: dict[str, Key] = {}
    links: set[str] = set()
    start = os.path.join(root, case) if case else str(root)
    if not os.path.isdir(start):
        return found, links
    stack = [(start, f"{case}/" if case else "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as it:
                items = {e.name: e for e in it if not e.name.startswith(".")}
        except OSError:
            continue
        for name, e in items.items():
            if name.endswith(".ipynb") and not e.is_dir(follow_symlinks=False):
                rel = prefix + name
                found[rel] = _stat(e) + _stat(items.get(name[:-6] + JOURNAL_SUFFIX))
                if e.is_symlink():
                    links.add(rel)
            elif e.is_dir(follow_symlinks=False):
                stack.append((e.path, f"{prefix}{name}/"))
    return found, links


def _stat(entry: os.DirEntry[str] | None) -> Key:
    if entry is None:
        return [None, None]
    try:
        st = entry.stat(follow_symlinks=False)
    except OSError:
        return [None, None]
    return [st.st_mtime_ns, st.st_size]


def _bar(items: list[str], show: bool) -> Any:
    if not show:
        return items
    from tqdm import tqdm

    return tqdm(items, desc="reading workbooks", unit="wb", file=sys.stderr)


def _extract(path: str, key: Key, link: bool, intern: dict[Desc, Desc]) -> dict[str, Any]:
    """One workbook's entry, read by the core's read rule: its BOOK values and answered rows
    (or the error)."""
    try:
        if link:
            raise KitError(f"{path}: is a symbolic link; skipped")
        rec = open_record(path)
        meta = rec.nb["metadata"][META]
        book = (*map(rec.info.get, INFO_KEYS), rec.template.get("kind", "worksheet"),
                bool(meta.get("finalized")), rec.review.state)
        merged = rec.answers
        descs: list[Desc] = []
        values: list[Any] = []
        context: dict[int, Any] = {}
        for pid, v in merged.items():
            if not is_answered(v):
                continue
            p = rec.prompts.get(pid)
            if p is not None:
                m = meaning(p)
                d = (pid, p["section"], p.get("kind"), p.get("role", "worker"),
                     json.dumps(m, sort_keys=True) if m else None)
                if isinstance(p.get("context"), dict):
                    context[len(values)] = p["context"]
            else:
                d = (pid, None, None, None, None)
            descs.append(intern.setdefault(d, d))  # one shared tuple per prompt
            values.append(v)
    except KitError as exc:
        return {"error": str(exc)}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # malformed metadata
        return {"error": f"{path}: unexpected workbook structure: {exc!r}"}
    return {"book": book, "prompts": descs, "values": values, "context": context}


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


# ---------------------------------------------------------------- the index (columns)
#
# {"format": 2,
#  "files":   {rel: Key}            every workbook below, readable or not
#  "errors":  {rel: message}        the unreadable ones
#  "books":   {"rel": [...], "rows": [answer count], BOOK column: [...]}  in frame order
#  "prompts": [Desc, ...]           the distinct prompts
#  "codes":   [int, ...]            per answer row: its prompt, an index into "prompts"
#  "values":  [...]                 per answer row: the answer
#  "context": {row: dict}}          carry-forward rows only


def _join(entries: dict[str, dict[str, Any]], files: dict[str, Key]) -> dict[str, Any]:
    """Per-workbook entries -> the column layout, workbooks sorted by case, date, path."""
    good = sorted(((rel, e) for rel, e in entries.items() if "book" in e),
                  key=lambda x: (str(x[1]["book"][0] or ""), str(x[1]["book"][1] or ""), x[0]))
    numbers: dict[Desc, int] = {}
    rels: list[str] = []
    books: list[Any] = []
    counts: list[int] = []
    codes: list[int] = []
    values: list[Any] = []
    context: dict[int, Any] = {}
    for rel, e in good:
        base = len(values)
        rels.append(rel)
        books.append(e["book"])
        counts.append(len(e["values"]))
        codes.extend([numbers.setdefault(d, len(numbers)) for d in e["prompts"]])
        values.extend(e["values"])
        for i, c in e["context"].items():
            context[base + i] = c
    cols = list(zip(*books, strict=True)) if books else [()] * len(BOOK)
    return {
        "format": INDEX_FORMAT,
        "files": files,
        "errors": {rel: e["error"] for rel, e in entries.items() if "error" in e},
        "books": {"rel": rels, "rows": counts} | {k: list(c) for k, c in zip(BOOK, cols,
                                                                             strict=True)},
        "prompts": list(numbers), "codes": codes, "values": values, "context": context,
    }


def _split(data: dict[str, Any], take: set[str]) -> dict[str, dict[str, Any]]:
    """The column layout -> per-workbook entries, for the workbooks in ``take``."""
    out: dict[str, dict[str, Any]] = {}
    books, prompts, codes = data["books"], data["prompts"], data["codes"]
    values, context = data["values"], data["context"]
    cols = [books[k] for k in BOOK]
    start = 0
    for i, (rel, n) in enumerate(zip(books["rel"], books["rows"], strict=True)):
        end = start + n
        if rel in take:
            out[rel] = {
                "book": tuple(c[i] for c in cols),
                "prompts": [prompts[c] for c in codes[start:end]],
                "values": values[start:end],
                "context": {j - start: context[j] for j in range(start, end) if j in context},
            }
        start = end
    out |= {rel: {"error": msg} for rel, msg in data["errors"].items() if rel in take}
    return out


class _PlainUnpickler(pickle.Unpickler):
    """Loads only plain data (dict, list, tuple, str, numbers, None): any class or function
    reference is refused, so a tampered index cannot run code."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"index refers to {module}.{name}: not plain data")


def _read_index(path: Path) -> dict[str, Any] | None:
    try:
        st = path.lstat()
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid():
            return None  # not a plain file of ours: ignore it (it is rewritten on change)
        with open(path, "rb") as fh:
            data = _PlainUnpickler(fh).load()
        return data if _valid(data) else None
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, KeyError, TypeError,
            AttributeError, IndexError, OverflowError, MemoryError):
        return None  # missing, stale or damaged: rebuild


def _valid(data: Any) -> bool:
    """The layout holds together (a damaged or foreign index is rebuilt, never trusted).

    Turns "codes" into a numpy index array on the way.
    """
    import numpy as np

    if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT:
        return False
    files, errors, books, prompts = data["files"], data["errors"], data["books"], data["prompts"]
    values, context = data["values"], data["context"]
    if not (isinstance(files, dict) and isinstance(errors, dict) and isinstance(books, dict)
            and isinstance(context, dict) and isinstance(prompts, list)
            and isinstance(values, list) and isinstance(data["codes"], list)):
        return False
    rels, counts = books["rel"], books["rows"]
    if not all(isinstance(books[k], list) and len(books[k]) == len(rels) for k in ("rows", *BOOK)):
        return False
    if not all(type(n) is int and n >= 0 for n in counts):
        return False
    total = sum(counts)
    codes = np.asarray(data["codes"], dtype=np.intp) if data["codes"] else np.zeros(0, np.intp)
    if len(codes) != total or len(values) != total or codes.ndim != 1:
        return False
    if total and (codes.min() < 0 or codes.max() >= len(prompts)):
        return False
    scalar = (str, int, float)
    if not all(isinstance(d, tuple) and len(d) == 5
               and all(x is None or isinstance(x, scalar) for x in d) for d in prompts):
        return False
    if not all(type(i) is int and 0 <= i < total for i in context):
        return False
    named = set(rels)
    if len(named) != len(rels) or named & errors.keys() or named | errors.keys() != files.keys():
        return False
    data["codes"] = codes
    return True


def _write_index(path: Path, data: dict[str, Any]) -> None:
    """Write the index via a private temp file + rename. No fsync: it is a cache, and a torn
    file after a crash is just rebuilt. A read-only store still reads."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickler = pickle.Pickler(fh, protocol=5)
            pickler.fast = True  # no memo: 4x quicker, and plain JSON data has no cycles
            pickler.dump(data)
        os.replace(tmp, path)
        tmp = None
    except (OSError, pickle.PicklingError, TypeError, ValueError, RecursionError):
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


# ---------------------------------------------------------------- the frame


def _frame(root: Path, data: dict[str, Any]) -> pd.DataFrame:
    """The DataFrame from the column layout: per-workbook and per-prompt values are typed once
    and repeated for their rows (pandas infers each dtype from the same values as before)."""
    import numpy as np
    import pandas as pd

    books = data["books"]
    counts = np.asarray(books["rows"], dtype=np.intp)
    live = counts > 0  # workbooks with no answers add no rows (nor dtypes)
    rep = np.repeat(np.arange(int(live.sum())), counts[live])
    codes = np.asarray(data["codes"], dtype=np.intp)

    def obj(items: list[Any]) -> Any:  # never turns nested lists into more dimensions
        return np.fromiter(items, dtype=object, count=len(items))

    def repeat(small: Any, index: Any) -> Any:
        return pd.Series(small, dtype=None, copy=False).array.take(index)

    def book(key: str) -> Any:  # one value per workbook, repeated for its rows
        return repeat(obj(books[key])[live], rep)

    prompts = np.empty((len(data["prompts"]), 5), dtype=object)
    for i, d in enumerate(data["prompts"]):
        prompts[i] = d
        prompts[i, 4] = json.loads(d[4]) if d[4] else {}
    context = np.full(len(codes), None, dtype=object)
    for i, c in data["context"].items():
        context[i] = c
    # dates are parsed once per workbook, not once per row
    when = pd.to_datetime(pd.Series(obj(books["date"])[live], dtype=object), errors="coerce",
                          format="ISO8601")
    base = os.path.join(str(root), "")
    df = pd.DataFrame({
        "case": book("case"),
        "date": when.to_numpy()[rep],
        "template": book("template"),
        "version": book("version"),
        "worker": book("worker"),
        "supervisor": book("supervisor"),
        "workbook": book("workbook"),
        "record": book("record"),
        "section": repeat(prompts[:, 1], codes),
        "prompt_id": repeat(prompts[:, 0], codes),
        "kind": repeat(prompts[:, 2], codes),
        "role": repeat(prompts[:, 3], codes),
        "meaning": repeat(prompts[:, 4], codes),
        "value": obj(data["values"]),
        "context": context,
        "finalized": np.array(books["finalized"], dtype=bool)[live][rep],
        "review": book("review"),
        "path": repeat(obj([base + rel for rel in books["rel"]])[live], rep),
    }, columns=COLUMNS)
    df.attrs["skipped"] = [{"path": str(root / rel), "error": msg}
                           for rel, msg in sorted(data["errors"].items())]
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
