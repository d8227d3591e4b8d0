"""Find and redact likely identifiers in answers (a safety net, not a guarantee).

Detectors (choose with ``detectors=`` / ``skip=``):

- ``email``: addresses like ``name@example.org``.
- ``phone``: found by Google's libphonenumber (the ``phonenumbers`` package), reading the text as
  British and as North-American. Kept: numbers libphonenumber calls valid, and numbers it calls
  possible when they are written with an international prefix (``+33 …``, ``00 61 …``) or as a
  UK number with its leading ``0`` (so unallocated and Ofcom drama ranges such as
  ``07700 900123`` still count). North-American numbers without ``+1`` must be grouped like one
  (``(202) 555-0147``, ``202-555-0147``, ``1-800-555-0199``) or follow "phone", "call", "tel"….
- ``nhs``: 10-digit UK NHS numbers (``943 476 5919``) whose mod-11 check digit is valid.
- ``ni``: UK National Insurance numbers (``AB 12 34 56 C``, ``AB123456C``): two prefix letters
  (first not D F I Q U V, second not D F I O Q U V, never BG GB KN NK NT TN ZZ), six digits and
  a suffix A-D (the suffix may be left out right after "NI", "NINO" or "National Insurance").
- ``ssn``: US social security numbers ``123-45-6789`` or ``123 45 6789`` (never area
  000/666/9xx, group 00, serial 0000); ``123456789`` only right after "SSN", "SS#" or "social
  security".
- ``dob``: a date within 30 characters after "born", "DOB", "d.o.b.", "date of birth" or
  "birthday" (``12-Mar-1984``, ``12/3/84``, ``3rd of March 1984``, ``March 3, 1984``), a month and
  year or a year alone straight after such a word (``born 1984``, ``born in March 2025``); and any
  full date (with a 4-digit year) from 1900 up to ten years ago, which is more likely a birth date
  than a session date. An age alone ("aged 42") is not flagged.
- ``postcode``: full UK postcodes (``SW1A 1AA``, ``M4 4AB``, ``DN551PT``): an outward code of a
  real shape, then a digit and two letters, as a whole word and in one letter case. Lower-case
  ones whose inward part reads as an ordinal (``m4 4th``) and unspaced lower-case ones are not
  counted, so "flat B1", "the M4 4th junction" and "room B12" are not postcodes.
- ``name``: names from a deny-list file (one per line, ``#`` comments), whole words, any case.
  The file defaults to ``$SUPERVISION_KIT_DENY_LIST``.

Findings never carry the matched text, only its kind, place and a masked preview.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher

from ..core.errors import FindingsFound, InputError, WorkbookError

__all__ = ["DETECTORS", "ENV_DENY_LIST", "Finding", "FindingsFound", "ScanResult",
           "check_detectors", "find", "inline_warning", "load_deny_list", "mask", "nhs_check_ok",
           "parameter_leaks", "redact_text", "redact_value", "scan", "scan_answers"]

DETECTORS = ("email", "phone", "nhs", "ni", "ssn", "dob", "postcode", "name")
PHONE_REGIONS = ("GB", "US")
ENV_DENY_LIST = "SUPERVISION_KIT_DENY_LIST"
# When spans overlap, the more specific kind wins.
_PRIORITY = {"email": 0, "nhs": 1, "ni": 2, "ssn": 3, "dob": 4, "postcode": 5, "phone": 6,
             "name": 7}
_LABEL = {"email": "an e-mail address", "phone": "a phone number", "nhs": "an NHS number",
          "ni": "a National Insurance number", "ssn": "a social security number",
          "dob": "a date of birth", "postcode": "a postcode", "name": "a name from the deny-list"}

@dataclass
class Finding:
    kind: str
    prompt: str
    start: int
    end: int
    masked: str
    where: str = ""  # e.g. "row 2, said" inside a table answer
    file: str = ""

    def line(self) -> str:
        place = f"{self.prompt}" + (f" ({self.where})" if self.where else "")
        return f"{self.file}: {place}: {self.kind} {self.masked}"


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    skipped: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- patterns

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
                    r"\.[A-Za-z]{2,}(?![\w-])")
# North-American grouping: (202) 555-0147, 202-555-0147, 202.555.0147, 1-800-555-0199
_NANP = re.compile(r"(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}")
# UK national grouping (for numbers outside the allocated ranges): 07700 900123, (020) 7946 0018
_UK_SHAPE = re.compile(r"\(?0\d{2,4}\)?[\s.-]?\d{3,4}[\s.-]?\d{3,4}")
_EXTENSION = re.compile(r"[\s,]*(?:ext\.?|extension|x)\s*\d+$", re.IGNORECASE)
_PHONE_WORDS = re.compile(r"\b(?:phone|telephone|tel|mobile|mob|cell|landline|call|ring|text|"
                          r"fax)\b\W{0,4}(?:\w+\W{1,3}){0,2}$", re.IGNORECASE)
_NHS = re.compile(r"(?<![\d-])(\d{3})([ -]?)(\d{3})\2(\d{4})(?![\d-])")
_NI_PREFIX = r"(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
_NI = re.compile(r"(?<![\w-])" + _NI_PREFIX + r"[ -]?\d{2}(?P<sep>[ -]?)\d{2}(?P=sep)\d{2}"
                 r"(?:[ -]?(?P<suffix>[A-D]))?(?![\w-])", re.IGNORECASE)
_NI_WORDS = re.compile(r"\b(?:NI|NINO|N\.I\.|national\s+insurance)\b(?:\s+(?:no|number))?"
                       r"[\s.:#]*$", re.IGNORECASE)
_SSN_RULES = r"(?!000|666|9\d\d)\d{3}(?P<sep>[ -])(?!00)\d{2}(?P=sep)(?!0000)\d{4}"
_SSN = re.compile(r"(?<![\d-])" + _SSN_RULES + r"(?![\d-])")
_SSN_BARE = re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}(?!00)\d{2}(?!0000)\d{4}(?![\w-])")
_SSN_WORDS = re.compile(r"\b(?:SSN|SS#|SSN#|SS(?=\s+no\b|\s+number)|soc\.?\s*sec\.?|"
                        r"social\s+security)"
                        r"(?:\s+(?:no|number|#))?[\s.:#]*$", re.IGNORECASE)
_MONTHS = ("jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|"
           "april|june|july|august|september|october|november|december")
_DATE = re.compile(
    r"(?<![\w/.-])(?:"
    r"(?P<iy>\d{4})(?P<isep>[/.-])(?P<im>\d{1,2})(?P=isep)(?P<id>\d{1,2})"
    r"|(?P<na>\d{1,2})[/.-](?P<nb>\d{1,2})[/.-](?P<ny>\d{4}|\d{2})"
    r"|(?P<td>\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?(?:\s+|\s*[./-]\s*)(?P<tm>" + _MONTHS +
    r")\.?,?(?:\s+|\s*[./-]\s*)(?P<ty>\d{4}|'?\d{2})"
    r"|(?P<um>" + _MONTHS + r")\.?\s+(?P<ud>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<uy>\d{4}|'\d{2})"
    r")(?![\w/-])", re.IGNORECASE)
_BIRTH_WORDS = re.compile(r"\b(?:born|d\.?o\.?b\.?|date\s+of\s+birth|birth\s*date|birthday)\b",
                          re.IGNORECASE)
# a month and year, or a year alone, straight after a birth word: "born 1984", "born in March 2025"
_BIRTH_YEAR = re.compile(
    r"\b(?:born|d\.?o\.?b|date\s+of\s+birth|birth\s*(?:date|year)|year\s+of\s+birth|y\.?o\.?b)"
    r"\.?(?:\s*[:\-]\s*|\s+)(?:(?:in|during)\s+)?"
    r"(?P<when>(?:(?:" + _MONTHS + r")\.?,?\s+)?(?:19|20)\d{2})(?![\w/-]|[.,]\d)",
    re.IGNORECASE)
_OUTWARD = (r"(?:[A-PR-UWYZ]\d{1,2}|[A-PR-UWYZ][A-HK-Y]\d{1,2}|[A-PR-UWYZ]\d[A-HJKPSTUW]"
            r"|[A-PR-UWYZ][A-HK-Y]\d[ABEHMNPRVWXY])")
_POSTCODE = re.compile(r"(?<![\w-])(?:GIR ?0AA|" + _OUTWARD + r"(?P<space> ?)\d"
                       r"[ABD-HJLNP-UW-Z]{2})(?![\w-])", re.IGNORECASE)
_ORDINAL = re.compile(r"\d(?:st|nd|rd|th)$", re.IGNORECASE)


def nhs_check_ok(digits: str) -> bool:
    """True when a 10-digit string passes the NHS mod-11 check (and is not all one digit)."""
    if len(digits) != 10 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def _phone_ok(raw: str, number: phonenumbers.PhoneNumber, region: str, before: str) -> bool:
    """Whether a number libphonenumber found in ``region`` is written like a phone number."""
    digits = re.sub(r"\D", "", raw)
    bare = _EXTENSION.sub("", raw)
    if len(set(str(number.national_number))) == 1:  # 4444 444444: filler, not a number
        return False
    valid = phonenumbers.is_valid_number(number)
    possible = valid or phonenumbers.is_possible_number(number)
    if raw.startswith("+") or digits.startswith(f"00{number.country_code}"):
        return possible
    if region == "GB":  # national form: the trunk prefix 0 must be there
        if not raw.lstrip("(").startswith("0") or digits.startswith("00"):
            return False
        return valid or (possible and bool(_UK_SHAPE.fullmatch(bare)))
    return valid and bool(_NANP.fullmatch(bare) or _PHONE_WORDS.search(before))


def _phones(text: str) -> set[tuple[int, int]]:
    spans = set()
    for region in PHONE_REGIONS:
        for m in PhoneNumberMatcher(text, region, leniency=Leniency.POSSIBLE):
            if _phone_ok(m.raw_string, m.number, region, text[max(0, m.start - 30):m.start]):
                spans.add((m.start, m.end))
    return spans


_MONTH_NUMBER = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


def _month(name: str) -> int:
    return _MONTH_NUMBER[name[:3].lower()]


def _year(text: str) -> int:
    """A 4-digit year, or -1 for a 2-digit one (only counted near birth words)."""
    text = text.lstrip("'")
    return int(text) if len(text) == 4 else -1


def _date_years(m: re.Match[str]) -> list[int]:
    """Years of the valid dates a match can mean (day/month order is ambiguous)."""
    g = m.groupdict()
    if g["iy"]:
        candidates = [(int(g["iy"]), int(g["im"]), int(g["id"]))]
    elif g["ny"]:
        y = int(g["ny"])
        y = y if len(g["ny"]) == 4 else -1  # 2-digit years: only counted near birth words
        candidates = [(y, int(g["nb"]), int(g["na"])), (y, int(g["na"]), int(g["nb"]))]
    elif g["ty"]:
        candidates = [(_year(g["ty"]), _month(g["tm"]), int(g["td"]))]
    else:
        candidates = [(_year(g["uy"]), _month(g["um"]), int(g["ud"]))]
    years = []
    for y, mo, d in candidates:
        try:
            dt.date(y if y > 0 else 2000, mo, d)
            years.append(y)
        except ValueError:
            continue
    return years


def _dobs(text: str) -> Iterator[tuple[int, int]]:
    latest = dt.date.today().year - 10
    for m in _DATE.finditer(text):
        years = _date_years(m)
        if not years:
            continue
        near = _BIRTH_WORDS.search(text, max(0, m.start() - 30), m.start())
        if near or any(1900 <= y <= latest for y in years):
            yield m.start(), m.end()
    for m in _BIRTH_YEAR.finditer(text):
        yield m.start("when"), m.end("when")


def _nis(text: str) -> Iterator[tuple[int, int]]:
    for m in _NI.finditer(text):
        if m.group("suffix") or _NI_WORDS.search(text, max(0, m.start() - 30), m.start()):
            yield m.start(), m.end()


def _ssns(text: str) -> Iterator[tuple[int, int]]:
    yield from ((m.start(), m.end()) for m in _SSN.finditer(text))
    for m in _SSN_BARE.finditer(text):
        if _SSN_WORDS.search(text, max(0, m.start() - 30), m.start()):
            yield m.start(), m.end()


def _postcodes(text: str) -> Iterator[tuple[int, int]]:
    for m in _POSTCODE.finditer(text):
        code = m.group()
        if code.isupper() or (code.islower() and m.group("space")
                              and not _ORDINAL.search(code)):
            yield m.start(), m.end()


def load_deny_list(path: str | os.PathLike[str] | None) -> list[str]:
    """Names from a deny-list file (one per line; blank lines and ``#`` comments ignored)."""
    if path is None:
        path = os.environ.get(ENV_DENY_LIST) or None
        if path is None:
            return []
    p = Path(path)
    try:
        if p.stat().st_size > 5_000_000:
            raise InputError(f"{p}: deny-list is larger than 5 MB")
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{p}: no such deny-list file") from None
    except UnicodeDecodeError:
        raise InputError(f"{p}: deny-list is not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read deny-list: {exc.strerror}") from None
    names = [line.strip() for line in text.splitlines()]
    return [n for n in names if n and not n.startswith("#") and "\x00" not in n]


def _names_rx(names: Iterable[str]) -> re.Pattern[str] | None:
    names = sorted({n for n in names if n}, key=len, reverse=True)
    if not names:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, names)) + r")(?!\w)",
                      re.IGNORECASE)


def check_detectors(detectors: Iterable[str] | None, skip: Iterable[str] | None = None
                    ) -> tuple[str, ...]:
    chosen = [d.strip() for d in detectors] if detectors else list(DETECTORS)
    skipped = [d.strip() for d in skip or []]
    bad = [d for d in [*chosen, *skipped] if d not in DETECTORS]
    if bad:
        raise InputError(f"unknown detector {bad[0]!r}; choose from {', '.join(DETECTORS)}")
    return tuple(d for d in chosen if d not in skipped)


# ---------------------------------------------------------------- finding


def find(text: str, detectors: Iterable[str] | None = None,
         names: Iterable[str] = ()) -> list[tuple[str, int, int]]:
    """``[(kind, start, end)]`` of likely identifiers in ``text``, without overlaps."""
    kinds = check_detectors(detectors)
    hits: list[tuple[str, int, int]] = []
    if "email" in kinds:
        hits += [("email", m.start(), m.end()) for m in _EMAIL.finditer(text)]
    if "nhs" in kinds:
        hits += [("nhs", m.start(), m.end()) for m in _NHS.finditer(text)
                 if nhs_check_ok(m.group(1) + m.group(3) + m.group(4))]
    if "ni" in kinds:
        hits += [("ni", s, e) for s, e in _nis(text)]
    if "ssn" in kinds:
        hits += [("ssn", s, e) for s, e in _ssns(text)]
    if "dob" in kinds:
        hits += [("dob", s, e) for s, e in _dobs(text)]
    if "postcode" in kinds:
        hits += [("postcode", s, e) for s, e in _postcodes(text)]
    if "phone" in kinds:
        hits += [("phone", s, e) for s, e in _phones(text)]
    rx = _names_rx(names) if "name" in kinds else None
    if rx:
        hits += [("name", m.start(), m.end()) for m in rx.finditer(text)]
    kept: list[tuple[str, int, int]] = []
    for kind, s, e in sorted(hits, key=lambda h: (_PRIORITY[h[0]], h[1], h[1] - h[2])):
        if all(e <= ks or s >= ke for _k, ks, ke in kept):
            kept.append((kind, s, e))
    return sorted(kept, key=lambda h: h[1])


def mask(text: str) -> str:
    """A preview that does not reveal the text: first character, the rest as dots."""
    return text[:1] + "".join("•" if c.isalnum() else c for c in text[1:])


def _strings(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """(place, text) for every string inside an answer (tables: 'row N, column')."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, list):
        for n, v in enumerate(value, 1):
            inner = f"row {n}" if isinstance(v, dict) else where
            yield from _strings(v, inner)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{where}, {k}" if where else str(k))


def scan_answers(answers: dict[str, Any], detectors: Iterable[str] | None = None,
                 names: Iterable[str] = (), file: str = "") -> list[Finding]:
    """Findings in one workbook's answers."""
    out = []
    for pid, value in answers.items():
        for where, text in _strings(value):
            for kind, s, e in find(text, detectors, names):
                out.append(Finding(kind, pid, s, e, mask(text[s:e]), where, file))
    return out


def scan(target: str | os.PathLike[str], detectors: Iterable[str] | None = None,
         skip: Iterable[str] | None = None,
         deny_list: str | os.PathLike[str] | None = None) -> ScanResult:
    """Scan one workbook, or every workbook in a store folder."""
    from ..core.store import iter_workbooks
    from ..core.workbook import open_record

    kinds = check_detectors(detectors, skip)
    names = load_deny_list(deny_list) if "name" in kinds else []
    root = Path(target)
    if not root.exists() and not root.is_symlink():
        raise InputError(f"{root}: no such workbook or store folder")
    single = not root.is_dir()
    paths = [root] if single else list(iter_workbooks(root))
    res = ScanResult()
    for p in paths:
        if p.is_symlink() and not single:
            res.skipped.append(f"{p}: symbolic link (not followed)")
            continue
        try:
            rec = open_record(p)
        except WorkbookError as exc:
            if single:
                raise
            res.skipped.append(str(exc))
            continue
        res.files += 1
        res.findings += scan_answers(rec.answers, kinds, names, file=str(p))
        # addenda are part of the record too (added after sign-off, so often in a hurry)
        addenda = {f"addendum {n} ({a.get('role')}, {str(a.get('t', ''))[:10]})":
                   str(a.get("text", "")) for n, a in enumerate(rec.state.addenda, 1)}
        res.findings += scan_answers(addenda, kinds, names, file=str(p))
    return res


# ---------------------------------------------------------------- redaction and warnings


def redact_text(text: str, detectors: Iterable[str] | None = None,
                names: Iterable[str] = ()) -> str:
    """``text`` with each likely identifier replaced by ``[kind removed]``."""
    out, last = [], 0
    for kind, s, e in find(text, detectors, names):
        out += [text[last:s], f"[{kind} removed]"]
        last = e
    return "".join(out) + text[last:]


def redact_value(value: Any, detectors: Iterable[str] | None = None,
                 names: Iterable[str] = ()) -> Any:
    """An answer of any kind with every string redacted."""
    if isinstance(value, str):
        return redact_text(value, detectors, names)
    if isinstance(value, list):
        return [redact_value(v, detectors, names) for v in value]
    if isinstance(value, dict):
        return {k: redact_value(v, detectors, names) for k, v in value.items()}
    return value


def inline_warning(value: Any) -> str:
    """HTML note shown under a widget when the captured answer looks identifying ('' if not)."""
    try:
        names = load_deny_list(None)
    except InputError:
        names = []
    kinds = sorted({kind for _w, text in _strings(value) for kind, _s, _e in
                    find(text, None, names)}, key=lambda k: _PRIORITY.get(k, 99))
    if not kinds:
        return ""
    what = ", ".join(_LABEL[k] for k in kinds)
    return ("<span style='color:#8a5300' role='status'><i class='fa fa-exclamation-triangle' "
            "aria-hidden='true'></i> This answer may contain identifying details "
            f"({what}). Use the case's pseudonym and leave out names, contact details and "
            "dates of birth.</span>")


def parameter_leaks(nb: dict[str, Any]) -> list[str]:
    """Cells whose code or non-answer outputs contain the worker's or supervisor's name."""
    from ..core.workbook import ANSWER_MIME

    info = nb.get("metadata", {}).get("supervision_kit", {}).get("workbook", {})
    names = [str(info.get(k, "")).strip() for k in ("worker", "supervisor")]
    rx = _names_rx(n for n in names if len(n) >= 3)
    if rx is None:
        return []
    leaks = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        texts = ["".join(src) if isinstance(src, list) else str(src)]
        for out in cell.get("outputs", []) or []:
            data = out.get("data", {})
            if ANSWER_MIME in data:
                continue
            texts += [str(v) for v in data.values()] + [str(out.get("text", ""))]
        if any(rx.search(t) for t in texts):
            leaks.append(f"cell {i + 1}")
    return leaks
