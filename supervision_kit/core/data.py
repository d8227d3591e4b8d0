"""Reading untrusted files safely: regular files only, no symlinks, size and depth limits,
YAML without aliases or duplicate keys.

Every file the package reads from a store, a workshop folder or a template folder comes
through here, so a FIFO never hangs a command, a symlink never leads outside the store, a
200 MB file is refused before it is parsed, and a nested or aliased document cannot exhaust
memory or the stack.
"""

from __future__ import annotations

import errno
import json
import os
import stat
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


def check_depth(raw: bytes | str, limit: int = MAX_DEPTH) -> bool:
    """True when JSON text nests no deeper than ``limit`` (counted on brackets outside strings),
    so json.loads can never hit Python's recursion limit."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    depth = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def _load_fast() -> tuple[Any, Any, Any] | None:
    """msgspec's (decode, format, error), or None when it is not installed."""
    try:
        import msgspec
    except ImportError:
        return None
    return msgspec.json.Decoder().decode, msgspec.json.format, msgspec.MsgspecError


_FAST = _load_fast()
_SHORT = 4096  # below this many bytes counting brackets beats re-indenting


def fast_json(raw: bytes, limit: int = MAX_DEPTH) -> Any:
    """What ``json.loads(raw.decode())`` gives when ``raw`` is valid UTF-8 JSON nested at most
    ``limit`` deep (``check_depth``), in about half the time; ``NotImplemented`` otherwise
    (no msgspec; invalid; NaN, Infinity or a lone surrogate, which only json.loads takes; too
    deep) and the caller takes its reference path, which also words any error.

    msgspec accepts nothing that json.loads refuses and gives equal values of the same types
    (integers of any size, the same floats, key order, the last duplicate key wins: see
    tests/test_fast_json.py). Depth: a text with at most ``limit`` opening brackets cannot nest
    deeper; otherwise msgspec re-indents it (one element a line, one space per level), where
    an element ``limit`` deep starts a line with ``limit`` spaces, and only then does the
    exact (slow) ``check_depth`` run.
    """
    if _FAST is None:
        return NotImplemented
    decode, indent, error = _FAST
    try:
        value = decode(raw)
    except (error, RecursionError):
        return NotImplemented
    if len(raw) < _SHORT and raw.count(b"[") + raw.count(b"{") <= limit:
        return value
    if b"\n" + b" " * limit in indent(raw, indent=1) and not check_depth(raw, limit):
        return NotImplemented
    return value


def parse_json(raw: bytes | str, source: Any, what: str = "JSON") -> Any:
    """JSON with a depth limit; a clear WorkbookError naming ``source`` otherwise."""
    if isinstance(raw, bytes):
        value = fast_json(raw)
        if value is not NotImplemented:
            return value
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise WorkbookError(f"{source}: not {what} (not UTF-8 text)", path=source) from None
    if not check_depth(text):
        raise WorkbookError(f"{source}: {what} nested more than {MAX_DEPTH} levels deep",
                            path=source)
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise WorkbookError(f"{source}: not {what} (invalid or truncated JSON: {exc})",
                            path=source) from exc


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
