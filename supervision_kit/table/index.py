"""The whole store as one pandas DataFrame, with an index cache.

``load_store(store)`` returns one row per workbook × answered prompt. Every workbook is read by
the core's read rule (``core.workbook.open_record``: the notebook's answer outputs merged with
its journal), so open and finalized workbooks read alike. Files that cannot be read are
skipped and listed in ``df.attrs["skipped"]``.

The index cache ``<store>/.supervision-kit-index.msgpack`` (mode 0600: it holds answers) is
column-oriented MessagePack: for every .ipynb and its journal the numbers that tell whether
it changed (mtime_ns, ctime_ns, size), then the frame's columns (per workbook, per distinct
prompt, per answer row). When nothing changed, a read lists the folders, compares those
numbers and builds the DataFrame straight from the cached columns; otherwise only the changed
workbooks are read again and spliced into the columns, and the index is rewritten.

It cannot run code: MessagePack is plain data (no classes, no functions, no pickle), and
msgspec decodes it in C without calling back into Python. The file is opened without
following a symlink and used only when it is a regular file of the current user and at most
``MAX_INDEX`` (512 MB); the decoder checks every length against the bytes left before it
allocates (a forged length header fails at once), checks the whole layout's types while it
decodes, and the parts are then checked against each other. Anything else is ignored and
rebuilt. Old versions' ``.supervision-kit-index.pickle`` is never read (it is removed).

Several processes may read and refresh it at once: it is written to a private temp file and
renamed into place, so a reader sees a whole index, old or new. A workbook's numbers are
taken before it is read, so an entry can only be older than its numbers say, and is then
read again. A workbook changed within ``RACY_NS`` (2 s) of a scan is read again at the next
load too (git's "racily clean" rule): a rewrite within one timestamp tick that keeps the size
could otherwise go unnoticed. Whichever process renames last wins; every version is valid.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import os
import stat
import sys
import tempfile
import time
from itertools import accumulate
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import KitError
from ..core.prompts import is_answered
from ..core.store import JOURNAL_SUFFIX, check_id, store_root
from ..core.workbook import ANNOTATIONS as _ANNOTATIONS
from ..core.workbook import META, meaning, open_record

if TYPE_CHECKING:
    import pandas as pd

INDEX_NAME = ".supervision-kit-index.msgpack"
LEGACY_INDEX = ".supervision-kit-index.pickle"  # before format 4: removed when we rewrite
INDEX_FORMAT = 4
MAX_INDEX = 512 * 1024 * 1024  # bytes; 5,000 workbooks make ~15 MB
RACY_NS = 2_000_000_000  # files changed this close to a scan are read again next time
STALE_TMP_S = 600  # an index temp file this old was left by a killed writer: removed
PROGRESS_MIN = 300  # show a progress bar above this many workbooks to (re)read
INFO_KEYS = ("case_id", "session_date", "template", "template_version", "worker", "supervisor",
             "id")
# per-workbook columns of the index (INFO_KEYS in order, then the record kind and finalized)
BOOK = ("case", "date", "template", "version", "worker", "supervisor", "workbook", "record",
        "review", "finalized")
COLUMNS = ["case", "date", "template", "version", "worker", "supervisor", "workbook", "record",
           "section", "prompt_id", "kind", "role", "meaning", "value", "context", "finalized",
           "review", "path"]

# (ipynb mtime_ns, ctime_ns, size, journal mtime_ns, ctime_ns, size) (None: missing)
Key = tuple[int | None, ...]
Desc = tuple[Any, Any, Any, Any, Any]  # a row's prompt: (id, section, kind, role, meaning JSON)
Entry = dict[str, Any]  # one workbook: {"book", "prompts", "values", "context"} or {"error"}
ANNOTATIONS = frozenset(_ANNOTATIONS)  # the prompt keys that say what an answer means


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
    record (the template's kind), section, prompt_id, kind, role (who the prompt is for),
    meaning (the prompt's annotations, a dict), value (as saved: text, number, list or table
    rows), context (carry-forward prompts: the goal/action they review), finalized, path.
    ``case`` limits the result (and the folder scan) to one case.
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
        df = _load(root, None, progress, cache, private)
    finally:
        if gc_on:
            gc.enable()
    if case is not None:
        skipped = [x for x in df.attrs.get("skipped", [])
                   if Path(x["path"]).relative_to(root).parts[0] in (case, "sessions")]
        df = df[df["case"] == case].reset_index(drop=True)
        df.attrs["skipped"] = skipped
    return df


def _is_private(m: Any) -> bool:
    return isinstance(m, dict) and bool(m.get("private"))


def _load(root: Path, case: str | None, progress: bool | None, cache: bool,
          private: bool) -> pd.DataFrame:
    index_path = root / INDEX_NAME
    old = _read_index(index_path) if cache else None
    start = time.time_ns()  # before any stat: what changed after it is seen next time
    found, links = _scan(root, case)
    known: dict[str, Key] = old["files"] if old else {}
    recheck: set[str] = old["recheck"] if old else set()
    if old and case is None and not recheck and known == found:  # the cached columns as is
        with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
            return _frame(root, old, private)
        old, known, recheck = None, {}, set()  # columns that do not make a frame: rebuild
    todo = [rel for rel, key in found.items() if known.get(rel) != key or rel in recheck]
    racy = {rel for rel in todo if _racy(found[rel], start)}
    removed = any(rel not in found and _in_scope(rel, case) for rel in known)
    changed = (removed or racy != {rel for rel in recheck if rel in found}
               or any(known.get(rel) != found[rel] for rel in todo))
    write = cache and changed and root.is_dir()
    fresh = set(todo)
    # unchanged workbooks come from the index; so do other cases' when the index is rewritten
    keep = {rel for rel in known
            if (rel in found and rel not in fresh) or (write and not _in_scope(rel, case))}
    show = progress if progress is not None else (len(todo) > PROGRESS_MIN
                                                  and sys.stderr.isatty())
    intern: dict[Desc, Desc] = {}
    entries = {rel: _extract(os.path.join(root, rel), rel in links, intern)
               for rel in _bar(todo, show)}
    files = {rel: found[rel] if rel in found else known[rel] for rel in keep | fresh}
    again = racy | {rel for rel in recheck if rel in keep and not _in_scope(rel, case)}
    data = _build(old, keep, entries, files, again)
    if write:
        _write_index(index_path, data)
    if len(files) != len(found):  # the index also kept other cases' workbooks
        data = _build(data, set(found), {}, found, set())
    return _frame(root, data, private)


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
    files and folders (checkpoints, the index). Each folder is opened once (never through a
    symlink) and its files are stat'ed relative to it, which spares the kernel a path walk
    per file where the platform allows.
    """
    found: dict[str, Key] = {}
    links: set[str] = set()
    start = os.path.join(root, case) if case else str(root)
    if not os.path.isdir(start):
        return found, links
    stack = [(start, f"{case}/" if case else "")]
    lstat = os.stat
    while stack:
        folder, prefix = stack.pop()
        fd = None
        try:
            if _BY_FD:
                fd = os.open(folder, _DIR_FLAGS)
            with os.scandir(folder if fd is None else fd) as it:
                items = {e.name: e for e in it if e.name[0] != "."}
            for name, e in items.items():
                if name.endswith(".ipynb") and not e.is_dir(follow_symlinks=False):
                    rel = prefix + name
                    journal = name[:-6] + JOURNAL_SUFFIX
                    try:
                        st = (e.stat(follow_symlinks=False) if fd is None
                              else lstat(name, dir_fd=fd, follow_symlinks=False))
                        key: Key = (st.st_mtime_ns, st.st_ctime_ns, st.st_size)
                    except OSError:
                        key = _MISSING
                    try:
                        if journal not in items:
                            raise FileNotFoundError(journal)
                        st = (items[journal].stat(follow_symlinks=False) if fd is None
                              else lstat(journal, dir_fd=fd, follow_symlinks=False))
                        found[rel] = (*key, st.st_mtime_ns, st.st_ctime_ns, st.st_size)
                    except OSError:
                        found[rel] = key + _MISSING
                    if e.is_symlink():
                        links.add(rel)
                elif e.is_dir(follow_symlinks=False):
                    stack.append((os.path.join(folder, name), f"{prefix}{name}/"))
        except OSError:
            continue
        finally:
            if fd is not None:
                os.close(fd)
    return found, links


_BY_FD = os.scandir in os.supports_fd and os.stat in os.supports_dir_fd
_DIR_FLAGS = (os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
              | getattr(os, "O_CLOEXEC", 0))
_MISSING: Key = (None, None, None)


def _racy(key: Key, start_ns: int) -> bool:
    """Changed (by ctime, which no one can set back) too close to the scan to be trusted."""
    return any(t is not None and t > start_ns - RACY_NS for t in (key[1], key[4]))


def _bar(items: list[str], show: bool) -> Any:
    if not show:
        return items
    from tqdm import tqdm

    return tqdm(items, desc="reading workbooks", unit="wb", file=sys.stderr)


def _extract(path: str, link: bool, intern: dict[Desc, Desc]) -> Entry:
    """One workbook's entry, read by the core's read rule: its BOOK values and answered rows
    (or the error)."""
    try:
        if link:
            raise KitError(f"{path}: is a symbolic link; skipped")
        rec = open_record(path)
        meta = rec.nb["metadata"][META]
        info = rec.info
        book = (*map(info.get, INFO_KEYS), meta["prompt_set"].get("kind", "worksheet"),
                rec.review.state, bool(meta.get("finalized")))
        prompts = rec.prompts
        descs: list[Desc] = []
        values: list[Any] = []
        context: dict[int, Any] = {}
        for pid, v in rec.answers.items():
            if not is_answered(v):
                continue
            p = prompts.get(pid)
            if p is None:
                d: Desc = (pid, None, None, None, None)
            else:
                # most prompts carry no annotation: no empty meaning to build for them
                m = None if ANNOTATIONS.isdisjoint(p) else meaning(p)
                d = (pid, p["section"], p.get("kind"), p.get("role", "worker"),
                     _as_json(m) if m else None)
                if "context" in p and isinstance(p["context"], dict):
                    context[len(values)] = p["context"]
            descs.append(intern.setdefault(d, d))  # one shared tuple per prompt
            values.append(v)
    except KitError as exc:
        return {"error": str(exc)}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # malformed metadata
        return {"error": f"{path}: unexpected workbook structure: {exc!r}"}
    return {"book": book, "prompts": descs, "values": values, "context": context}


def _as_json(m: dict[str, Any]) -> str:
    """A prompt's meaning as canonical JSON text (sorted keys), the form it is kept in."""
    codec = _codec()
    if codec is None:
        return json.dumps(m, sort_keys=True, separators=(",", ":"))
    return codec[3](m).decode()


# ---------------------------------------------------------------- the columns
#
# In memory (in the file: sets and dicts keyed by row as sorted lists, codes as a list):
# {"format":  INDEX_FORMAT,
#  "files":   {rel: Key}            every workbook below, readable or not
#  "recheck": {rel, ...}            read again next time (changed too close to the scan)
#  "errors":  {rel: message}        the unreadable ones
#  "books":   {"rel": [...], "rows": [answer count], BOOK column: [...]}  in frame order
#  "prompts": [Desc, ...]           the distinct prompts
#  "codes":   array of int          per answer row: its prompt, an index into "prompts"
#  "values":  [...]                 per answer row: the answer
#  "context": {row: dict}}          carry-forward rows only
# plus, in memory only, "starts": the first row of each workbook.


def _sort_key(book: Any, rel: str) -> tuple[str, str, str]:
    return (str(book[0] or ""), str(book[1] or ""), rel)


def _build(old: dict[str, Any] | None, keep: set[str], fresh: dict[str, Entry],
           files: dict[str, Key], recheck: set[str]) -> dict[str, Any]:
    """The columns for the workbooks in ``keep`` (taken from ``old``) and ``fresh`` (just
    read), sorted by case, date, path: slices of the old columns are spliced, not rebuilt."""
    import numpy as np

    order: list[tuple[tuple[str, str, str], int, Entry | None]] = []
    errors: dict[str, str] = {}
    table: list[Desc] = []
    if old is not None:
        ob = old["books"]
        cases, dates = ob["case"], ob["date"]
        order = [(_sort_key((cases[i], dates[i]), rel), i, None)
                 for i, rel in enumerate(ob["rel"]) if rel in keep]
        errors = {rel: msg for rel, msg in old["errors"].items() if rel in keep}
        table = list(old["prompts"])
    for rel, e in fresh.items():
        if "book" in e:
            order.append((_sort_key(e["book"], rel), -1, e))
        else:
            errors[rel] = e["error"]
    order.sort(key=itemgetter(0))

    numbers = {d: i for i, d in reversed(list(enumerate(table)))}
    added: list[Desc] = []

    def code(d: Desc) -> int:
        i = numbers.get(d)
        if i is None:
            i = numbers[d] = len(table) + len(added)
            added.append(d)
        return i

    n_old = len(old["books"]["rel"]) if old is not None else 0
    o_values: Any = old["values"] if old is not None else []
    o_codes: Any = old["codes"] if old is not None else None
    o_starts = old["starts"] if old is not None else []
    o_rows = old["books"]["rows"] if old is not None else []
    extra: list[Entry] = []  # the fresh workbooks, in frame order
    picks: list[int] = []  # per workbook: an old one's index, or n_old + its place in extra
    values: list[Any] = []
    parts: list[Any] = []
    context: dict[int, Any] = {}
    moved: dict[int, int] = {}  # old workbook -> its new first row
    row = 0
    run = [0, 0]  # old rows [from, to) still to be copied: consecutive old workbooks at once

    def copy_run() -> None:
        if run[1] > run[0]:
            values.extend(o_values[run[0]:run[1]])
            parts.append(o_codes[run[0]:run[1]])
        run[0] = run[1] = 0

    for _key, i, item in order:
        if item is None:
            s, n = o_starts[i], o_rows[i]
            if s != run[1]:
                copy_run()
                run[0] = s
            run[1] = s + n
            picks.append(i)
            moved[i] = row
        else:
            copy_run()
            e = item
            n = len(e["values"])
            picks.append(n_old + len(extra))
            extra.append(e)
            values.extend(e["values"])
            parts.append(np.fromiter(map(code, e["prompts"]), dtype=np.intp, count=n))
            for j, c in e["context"].items():
                context[row + j] = c
        row += n
    copy_run()
    if old is not None and old["context"] and moved:
        starts = np.asarray(o_starts)
        for r, c in old["context"].items():
            i = int(np.searchsorted(starts, r, side="right")) - 1
            if i in moved:
                context[moved[i] + r - o_starts[i]] = c
    table += added
    codes = np.concatenate(parts) if parts else np.zeros(0, np.intp)
    used = np.zeros(len(table), dtype=bool)
    used[codes] = True
    if not used.all():  # prompts no workbook answers any more: drop them, renumber
        codes = (np.cumsum(used) - 1)[codes]
        table = [d for d, u in zip(table, used, strict=True) if u]
    ob = old["books"] if old is not None else {k: [] for k in ("rel", "rows", *BOOK)}
    fresh_rels = [key[2] for key, _i, e in order if e is not None]
    books = {"rel": _pick(ob["rel"] + fresh_rels, picks),
             "rows": _pick(o_rows + [len(e["values"]) for e in extra], picks)}
    for k, col in enumerate(BOOK):
        books[col] = _pick(ob[col] + [e["book"][k] for e in extra], picks)
    return {
        "format": INDEX_FORMAT,
        "files": files,
        "recheck": recheck,
        "errors": errors,
        "books": books,
        "prompts": table, "codes": codes, "values": values, "context": context,
        "starts": _starts(books["rows"]),
    }


def _pick(items: list[Any], picks: list[int]) -> list[Any]:
    """``[items[i] for i in picks]``, at C speed."""
    if len(picks) > 1:
        return list(itemgetter(*picks)(items))
    return [items[i] for i in picks]


def _starts(counts: list[int]) -> list[int]:
    """The first row of each workbook."""
    return list(accumulate(counts, initial=0))[:-1]


# ---------------------------------------------------------------- the index file


@functools.cache
def _codec() -> tuple[Any, Any, type[Exception], Any] | None:
    """(decoder, encoder, decode error, canonical JSON encoder) for the index file, or None
    without msgspec.

    The decoder checks the whole layout's types in C while it decodes (anything else is a
    ValidationError): MessagePack is data only, msgspec never calls back into Python for
    it, and it checks every length against the bytes that are left before allocating, so
    a forged length header fails at once instead of reserving memory.
    """
    try:
        import msgspec
    except ImportError:
        return None
    from typing import Annotated

    count = Annotated[int, msgspec.Meta(ge=0)]
    num = int | None
    books = msgspec.defstruct("Books", [("rel", list[str]), ("rows", list[count])]
                              + [(k, list[bool] if k == "finalized" else list[Any])
                                 for k in BOOK], forbid_unknown_fields=True)
    layout = msgspec.defstruct("Layout", [
        ("format", int),
        ("files", dict[str, tuple[num, num, num, num, num, num]]),
        ("recheck", list[str]),
        ("errors", dict[str, str]),
        ("books", books),
        ("prompts", list[tuple[Any, Any, Any, Any, str | None]]),
        ("codes", list[count]),
        ("values", list[Any]),
        ("context", list[tuple[count, Any]]),
    ], forbid_unknown_fields=True)
    return (msgspec.msgpack.Decoder(layout), msgspec.msgpack.Encoder(), msgspec.MsgspecError,
            msgspec.json.Encoder(order="sorted").encode)


def _read_index(path: Path) -> dict[str, Any] | None:
    """The index when it is a regular file of ours that decodes and holds together; else
    None (it is then rebuilt)."""
    codec = _codec()
    if codec is None:
        return None  # msgspec missing: read without the cache
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    flags = os.O_RDONLY | nofollow | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        if not nofollow and path.is_symlink():
            return None
        fd = os.open(path, flags)
    except OSError:
        return None  # missing, a symlink (ELOOP), unreadable
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not _ours(st) or st.st_size > MAX_INDEX:
            return None  # not a plain file of ours (it is replaced at the next change)
        chunks, total, want = [], 0, st.st_size + 1  # one read, and one to see the end
        while chunk := os.read(fd, want):
            total += len(chunk)
            if total > MAX_INDEX:
                return None  # grew while we read
            chunks.append(chunk)
            want = 1 << 20
    except OSError:
        return None
    finally:
        os.close(fd)
    decoder, _encoder, error, _json = codec
    try:
        return _valid(decoder.decode(b"".join(chunks)))
    except (error, ValueError, TypeError, KeyError, IndexError, OverflowError, MemoryError,
            RecursionError):
        return None  # damaged, foreign or tampered: rebuild


def _valid(f: Any) -> dict[str, Any] | None:
    """The decoded file as the in-memory layout when it holds together (a damaged or foreign
    index is rebuilt, never trusted). The decoder checked the types; this checks that the
    parts agree with each other."""
    import numpy as np

    if f.format != INDEX_FORMAT:
        return None
    b = f.books
    rels, counts = b.rel, b.rows
    if not all(len(getattr(b, k)) == len(rels) for k in ("rows", *BOOK)):
        return None
    total = sum(counts)
    codes = np.asarray(f.codes, dtype=np.intp) if f.codes else np.zeros(0, np.intp)
    if len(codes) != total or len(f.values) != total:
        return None
    if total and codes.max() >= len(f.prompts):
        return None
    scalar = (str, int, float)
    if not all(x is None or isinstance(x, scalar) for d in f.prompts for x in d):
        return None
    context = dict(f.context)
    if len(context) != len(f.context) or any(r >= total for r in context):
        return None
    named = set(rels)
    errors, files = f.errors, f.files
    if len(named) != len(rels) or named & errors.keys() or named | errors.keys() != files.keys():
        return None
    recheck = set(f.recheck)
    if not recheck <= files.keys():
        return None
    books = {"rel": rels, "rows": counts} | {k: getattr(b, k) for k in BOOK}
    return {"format": f.format, "files": files, "recheck": recheck, "errors": errors,
            "books": books, "prompts": f.prompts, "codes": codes, "values": f.values,
            "context": context, "starts": _starts(counts)}


def _write_index(path: Path, data: dict[str, Any]) -> None:
    """Write the index via a private (0600) temp file + rename. No fsync: it is a cache, and
    a torn file after a crash is just rebuilt. A read-only store still reads."""
    codec = _codec()
    if codec is None:
        return
    layout = {k: data[k] for k in ("format", "files", "errors", "books", "prompts", "values")}
    layout |= {"recheck": sorted(data["recheck"]), "codes": data["codes"].tolist(),
               "context": sorted(data["context"].items())}
    try:
        packed = codec[1].encode(layout)
    except (TypeError, ValueError, OverflowError, RecursionError):
        return  # not plain data after all (an integer JSON allows and MessagePack does not)
    if len(packed) > MAX_INDEX:
        return  # it would be refused when read
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(packed)
        os.replace(tmp, path)
        tmp = None
    except OSError:
        return
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    _tidy(path)


def _ours(st: os.stat_result) -> bool:
    """Owned by the current user (where the platform has owners)."""
    uid = getattr(os, "getuid", None)
    return uid is None or st.st_uid == uid()


def _tidy(path: Path) -> None:
    """Remove the pickle index of older versions and temp files of killed writers (ours,
    regular, and old enough that no writer is still busy with them)."""
    now = time.time()
    with contextlib.suppress(OSError), os.scandir(path.parent) as it:
        for e in it:
            name = e.name
            stale = name.startswith(f"{path.name}.") and name.endswith(".tmp")
            if name != LEGACY_INDEX and not stale:
                continue
            with contextlib.suppress(OSError):
                st = e.stat(follow_symlinks=False)
                if (stat.S_ISREG(st.st_mode) and _ours(st)
                        and (not stale or st.st_mtime < now - STALE_TMP_S)):
                    os.unlink(e.path)


# ---------------------------------------------------------------- the frame


def _frame(root: Path, data: dict[str, Any], private: bool = True) -> pd.DataFrame:
    """The DataFrame from the column layout: per-workbook and per-prompt values are typed once
    and repeated for their rows (pandas infers each dtype from the same values as before).
    Rows of private prompts are dropped here, by prompt, unless ``private``."""
    import numpy as np
    import pandas as pd

    books = data["books"]
    counts = np.asarray(books["rows"], dtype=np.intp)
    codes = np.asarray(data["codes"], dtype=np.intp)
    values = data["values"]
    context = data["context"]

    def obj(items: list[Any]) -> Any:  # never turns nested lists into more dimensions
        return np.fromiter(items, dtype=object, count=len(items))

    prompts = np.empty((len(data["prompts"]), 5), dtype=object)
    for i, d in enumerate(data["prompts"]):
        prompts[i] = d
        prompts[i, 4] = json.loads(d[4]) if d[4] else {}
    hide = np.fromiter((not private and _is_private(m) for m in prompts[:, 4]), dtype=bool,
                       count=len(prompts))
    if hide.any():
        shown = ~hide[codes]
        rows = np.flatnonzero(shown)
        counts = np.bincount(np.repeat(np.arange(len(counts)), counts)[rows],
                             minlength=len(counts)).astype(np.intp)
        codes = codes[rows]
        values = obj(values)[rows]
        renumber = np.cumsum(shown) - 1
        context = {int(renumber[r]): c for r, c in context.items() if shown[r]}
    else:
        values = obj(values)
    live = counts > 0  # workbooks with no answers add no rows (nor dtypes)
    rep = np.repeat(np.arange(int(live.sum())), counts[live])

    def repeat(small: Any, index: Any) -> Any:
        return pd.Series(small, dtype=None, copy=False).array.take(index)

    def book(key: str) -> Any:  # one value per workbook, repeated for its rows
        return repeat(obj(books[key])[live], rep)

    ctx = np.full(len(codes), None, dtype=object)
    for i, c in context.items():
        ctx[i] = c
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
        "value": values,
        "context": ctx,
        "finalized": np.array(books["finalized"], dtype=bool)[live][rep],
        "review": book("review"),
        "path": repeat(obj([base + rel for rel in books["rel"]])[live], rep),
    }, columns=COLUMNS)
    # in a session about several cases, a case block's answers are its case's (the meaning
    # of each prompt says which case its section is about)
    own = obj([m.get("case") for m in prompts[:, 4]])
    if any(c is not None for c in own):
        row_case = own[codes]
        mask = np.fromiter((c is not None for c in row_case), dtype=bool, count=len(row_case))
        cases = df["case"].to_numpy(dtype=object).copy()
        cases[mask] = row_case[mask]
        df["case"] = cases
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
