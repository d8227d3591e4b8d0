"""Reading untrusted files safely: regular files only, no symlinks, size and depth limits,
YAML without aliases or duplicate keys.

Every file the package reads from a store, a workshop folder or a template folder comes
through here, so a FIFO never hangs a command, a symlink never leads outside the store, a
200 MB file is refused before it is parsed, and a nested or aliased document cannot exhaust
memory or the stack.
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

from .errors import InputError, WorkbookError

MAX_NOTEBOOK = 32 * 1024 * 1024  # bytes; a full session workbook is ~0.3 MB
MAX_JOURNAL = 64 * 1024 * 1024
MAX_TEMPLATE = 2 * 1024 * 1024  # a prompt set, framework, requirement or vignette
MAX_DEPTH = 64  # nesting of JSON/YAML containers; real data needs < 12


def read_regular(path: str | os.PathLike[str], limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file, refusing symlinks, FIFOs, devices and files over ``limit``.

    Opened with O_NOFOLLOW | O_NONBLOCK and checked with fstat, so a FIFO is refused at once
    instead of blocking, and a symlink swapped in after a check is still refused.
    """
    p = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(p, flags)
    except FileNotFoundError:
        raise WorkbookError(f"{p}: no such {what}", path=p) from None
    except IsADirectoryError:
        raise WorkbookError(f"{p}: is a folder, not a {what}", path=p) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP or p.is_symlink():
            raise WorkbookError(f"{p}: is a symbolic link; give the {what} itself",
                                path=p) from None
        raise WorkbookError(f"{p}: cannot read: {exc.strerror}", path=p) from exc
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise WorkbookError(f"{p}: is a folder, not a {what}", path=p)
        if not stat.S_ISREG(st.st_mode):
            raise WorkbookError(f"{p}: is not a regular file (a pipe or device?)", path=p)
        if st.st_size > limit:
            raise WorkbookError(f"{p}: {what} is {st.st_size:,} bytes; the limit is {limit:,}",
                                path=p)
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:  # grew while we read
                raise WorkbookError(f"{p}: {what} is over the {limit:,}-byte limit", path=p)
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_DELTA = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def check_depth(raw: bytes | str, limit: int = MAX_DEPTH) -> bool:
    """True when JSON text nests no deeper than ``limit`` (counted on brackets outside strings),
    so json.loads can never hit Python's recursion limit.

    Exact for any text json.loads accepts, with C-speed byte operations only: escaped
    backslashes and quotes are blanked, the text is split on the remaining quotes (every other
    piece is inside a string; an unterminated string hides the rest, as it would from a
    parser), and the brackets of the rest are counted."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if data.count(b"[") + data.count(b"{") <= limit:
        return True
    if b"\\" in data:
        data = data.replace(b"\\\\", b"__").replace(b'\\"', b"__")
    brackets = b"".join(data.split(b'"')[0::2]).translate(None, _NOT_BRACKETS)
    if len(brackets) <= limit:
        return True
    return max(itertools.accumulate(map(_DELTA.__getitem__, brackets))) <= limit


def nesting_ok(obj: Any, limit: int = MAX_DEPTH) -> bool:
    """True when parsed JSON nests no deeper than ``limit`` containers (the same count as
    ``check_depth`` on its text), walked level by level without recursion."""
    if type(obj) is not dict and type(obj) is not list:
        return True
    if _CPYTHON:
        return _nesting_ok_gc(obj, limit)
    stack = [(obj, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        if depth > limit:
            return False
        for v in node.values() if type(node) is dict else node:
            if type(v) is dict or type(v) is list:
                push((v, depth + 1))
    return True


_CPYTHON = sys.implementation.name == "cpython"


def _nesting_ok_gc(obj: Any, limit: int) -> bool:
    """CPython: one C call per level instead of a Python loop over every value (3x faster).

    ``gc.get_referents`` gives a level's children; ``gc.is_tracked`` keeps the containers
    that can have children: CPython tracks every list, and a dict as soon as it holds a
    dict or list (and never untracks it while it does). An untracked dict therefore holds only
    scalars: such leaf dicts can sit at most one level below the deepest tracked level, which
    is checked at the end."""
    import gc

    level, depth = [obj], 1
    if depth > limit:
        return False
    while True:
        nxt = list(filter(gc.is_tracked, gc.get_referents(*level)))
        if not nxt:
            break
        depth += 1
        if depth > limit:
            return False
        level = nxt
    return depth < limit or not any(type(x) is dict or type(x) is list
                                    for x in gc.get_referents(*level))


def parse_json(raw: bytes | str, source: Any, what: str = "JSON") -> Any:
    """JSON with a depth limit; a clear WorkbookError naming ``source`` otherwise.

    The depth is checked on the parsed value (json.loads itself stops runaway nesting with a
    RecursionError): a walk costs less than half the parse, scanning the text costs as much."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise WorkbookError(f"{source}: not {what} (not UTF-8 text)", path=source) from None
    deep = WorkbookError(f"{source}: {what} nested more than {MAX_DEPTH} levels deep",
                         path=source)
    try:
        value = json.loads(text)
    except RecursionError:
        raise deep from None
    except ValueError as exc:
        raise WorkbookError(f"{source}: not {what} (invalid or truncated JSON: {exc})",
                            path=source) from exc
    if not nesting_ok(value):
        raise deep
    return value


MAX_NODES = 200_000  # YAML nodes after expanding aliases; a prompt set has ~5,000


def _expanded_size(root: Any) -> int:
    """How many nodes the document has once aliases are expanded (memoised per node, so a
    "billion laughs" document is measured without being expanded)."""
    import yaml

    size: dict[int, int] = {}
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, yaml.ScalarNode):
            size[id(node)] = 1
            continue
        kids = ([x for pair in node.value for x in pair] if isinstance(node, yaml.MappingNode)
                else list(node.value))
        if done:
            total = 1 + sum(size[id(k)] for k in kids)
            if total > MAX_NODES:
                raise ValueError(f"expands to more than {MAX_NODES:,} nodes (an alias bomb?)")
            size[id(node)] = total
            continue
        if id(node) in size:
            continue
        stack.append((node, depth, True))
        stack.extend((k, depth + 1, False) for k in kids if id(k) not in size)
    return size[id(root)]


def load_yaml(text: str, source: Any) -> Any:
    """YAML data safely: plain data types only (SafeLoader), no duplicate keys, and a limit on
    nesting and on the size aliases expand to (no "billion laughs")."""
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    def mapping(loader: Any, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        loader.flatten_mapping(node)  # merge keys (<<) as SafeLoader does
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen[key] = loader.construct_object(value_node, deep=deep)
        return seen

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: not valid YAML: {_one_line(exc)}", path=source) from exc
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{source}: YAML refused: {_one_line(exc)}", path=source) from exc
    finally:
        loader.dispose()


def read_data_file(path: str | os.PathLike[str], what: str = "data file") -> Any:
    """A template data file (YAML or JSON) read with every limit above."""
    p = Path(path)
    raw = read_regular(p, MAX_TEMPLATE, what)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{p}: not UTF-8 text", path=p) from None
    if p.suffix == ".json":
        return parse_json(text, p, what)
    return load_yaml(text, p)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
