"""Text from answers is data: helpers that make it inert wherever it is shown.

- ``escape_md``: markdown/HTML that shows every character literally (notebooks, exports).
- ``terminal_safe``: no control, escape or bidirectional characters reach a terminal.
- ``csv_cell``: a spreadsheet never reads a cell as a formula.
- ``mpl_text``: matplotlib never reads ``$…$`` as mathtext.
- ``check_name``: person names and other one-line fields refuse control/bidi characters.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from .errors import InputError

_MD_SPECIAL = set("\\`*_{}[]()#+-.!|~>")
# Unicode "format" characters that reorder or hide text (bidi overrides/isolates, zero-width)
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_LINE_SEPARATORS = set("\u2028\u2029\x85")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def escape_md(text: Any) -> str:
    """Text that markdown shows literally: HTML entities and backslash-escaped punctuation."""
    out = []
    for ch in str(text):
        if ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch in _MD_SPECIAL:
            out.append("\\" + ch)
        elif ch in _BIDI:
            continue
        else:
            out.append(ch)
    return "".join(out)


def unsafe_char(ch: str, *, allow_newline: bool = False) -> bool:
    """Control (C0, DEL, C1), line-separator or bidi/format characters."""
    if allow_newline and ch in "\n\t":
        return False
    o = ord(ch)
    return (o < 32 or 0x7F <= o < 0xA0 or ch in _BIDI or ch in _LINE_SEPARATORS
            or unicodedata.category(ch) == "Cf")


def terminal_safe(text: Any, *, allow_newline: bool = False) -> str:
    """The text with every control/escape/bidi character shown as a visible ``\\uXXXX``."""
    out = []
    for ch in str(text):
        if unsafe_char(ch, allow_newline=allow_newline):
            out.append(f"\\u{ord(ch):04x}" if ord(ch) > 0xFF else f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


def csv_cell(value: Any, *, neutralise: bool = True) -> Any:
    """A CSV cell that spreadsheets treat as text: a leading ``'`` before =, +, -, @, tab, CR
    (OWASP's advice); numbers are left as numbers."""
    if not neutralise or not isinstance(value, str) or not value:
        return value
    return "'" + value if value.startswith(FORMULA_START) else value


def mpl_text(text: Any) -> str:
    """Text for matplotlib labels: dollar signs escaped (no mathtext), controls removed."""
    return "".join(ch for ch in str(text) if not unsafe_char(ch)).replace("$", r"\$")


def check_name(value: Any, what: str = "name", *, required: bool = True,
               limit: int = 120) -> str:
    """A one-line name or label typed by a person: no control, line-separator or bidi chars."""
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise InputError(f"a {what} is required (a name or initials)")
    if len(text) > limit or any(unsafe_char(c) for c in text):
        raise InputError(f"invalid {what} {terminal_safe(text[:40])!r}: one line of plain text, "
                         f"at most {limit} characters, no control or direction characters")
    return text
