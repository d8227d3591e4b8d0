"""The read rule's fast JSON path (msgspec) gives exactly what the reference path
(``json.loads`` after ``check_depth``) gives: the same values of the same types, the same
refusals with the same messages."""

import json
import math
import random

import pytest

from supervision_kit.core import data
from supervision_kit.core.errors import WorkbookError

pytestmark = pytest.mark.skipif(data._FAST is None, reason="msgspec is not installed")


def same(a, b):
    """Equal and of the same types all the way down (1 == 1.0 == True is not enough)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b) or (a != a and b != b)
    return a == b


def reference(raw, monkeypatch, limit=data.MAX_DEPTH):
    with monkeypatch.context() as m:
        m.setattr(data, "_FAST", None)
        try:
            return "ok", data.parse_json(raw, "x")
        except WorkbookError as exc:
            return "error", str(exc)


def outcome(raw):
    try:
        return "ok", data.parse_json(raw, "x")
    except WorkbookError as exc:
        return "error", str(exc)


def check(raw, monkeypatch):
    want, got = reference(raw, monkeypatch), outcome(raw)
    assert want[0] == got[0], (raw[:80], want, got)
    if want[0] == "ok":
        assert same(want[1], got[1]), raw[:80]
    else:
        assert want[1] == got[1]


def random_value(rng, depth=0):
    k = rng.random()
    if depth > 6 or k < 0.45:
        return rng.choice([
            None, True, False, 0, -0, 1, -1, 2**63, -(2**63) - 1, 2**64 + 5, 10**30, -(10**40),
            0.1, -0.0, 1e300, 5e-324, 1.7976931348623157e308, 123456789.123456789,
            rng.uniform(-1e6, 1e6), rng.randint(-10**20, 10**20), "", "plain", "é ü ß 漢字 😀",
            "quote \" backslash \\ slash / controls \n\t\r\b\f \u0000 \u001f", "[{]}", "\u2028",
            "".join(chr(rng.randint(32, 0x2FFF)) for _ in range(rng.randint(0, 20)))])
    if k < 0.75:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    return {rng.choice(["a", "b", "é", "", "id", "[", "v"]) + str(rng.randint(0, 3)):
            random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def test_random_documents_read_alike(monkeypatch):
    rng = random.Random(11)
    for _ in range(3000):
        value = random_value(rng)
        for text in (json.dumps(value), json.dumps(value, ensure_ascii=False, indent=1),
                     json.dumps(value, separators=(",", ":"), sort_keys=True)):
            check(text.encode("utf-8"), monkeypatch)


@pytest.mark.parametrize("raw", [
    b"NaN", b"[Infinity, -Infinity]", b"1e400", b'"\\ud800"', b'["\\udc00\\ud800"]',
    b'{"a": 1, "a": 2}', b'{"b": 1, "a": 2, "b": 3}', b"\xef\xbb\xbf{}", b"[1,]", b"{,}",
    b"01", b"[1] x", b"", b"   ", b"\x00", b'"\xff"', b'"\xed\xa0\x80"', b'"\xc0\x80"',
    b'"a\x01b"', b"[\t1\r\n]", b"\xc2\xa0[1]", b"tru", b"-", b"1.", b".5", b"1e", b"\"\\x\"",
    b"123456789012345678901234567890", b"-9223372036854775809", b"18446744073709551616",
    b"0.1000000000000000055511151231257827", b"[" * 64 + b"]" * 64, b"[" * 65 + b"]" * 65,
    b'{"a":' * 64 + b"1" + b"}" * 64, b'{"a":' * 65 + b"1" + b"}" * 65,
    b"[" * 64 + b'"x"' + b"]" * 64, b"[" * 200_000, b"[" * 5000 + b"]" * 5000,
    b'["' + b"[" * 100 + b'"]', b'"' + b" " * 200 + b'"', b'{"k": "\\n' + b" " * 100 + b'"}',
    b"[" + b"[]," * 100 + b"[]]",
])
def test_edge_cases_read_alike(raw, monkeypatch):
    check(raw, monkeypatch)


def test_depth_limit_is_exact_for_pretty_and_compact_text(monkeypatch):
    for depth in (63, 64, 65, 66):
        for value_text in (b"1", b"[]", b"{}", b'"s"'):
            check(b"[" * (depth - 1) + value_text + b"]" * (depth - 1), monkeypatch)
            check(b"[" * depth + b"]" * depth, monkeypatch)
            nested = json.dumps(json.loads(b"[" * (depth - 1) + value_text + b"]" * (depth - 1)),
                                indent=1)
            check(nested.encode(), monkeypatch)


def test_damaged_notebooks_read_alike(store, make_workbook, monkeypatch):
    from supervision_kit.record import fill, finalize

    wb = make_workbook()
    fill(wb, {"worker_agenda": "A week [with] {brackets} and \"quotes\"", "session_rating": 7})
    finalize(wb)
    raw = wb.read_bytes()
    check(raw, monkeypatch)
    rng = random.Random(3)
    for _ in range(400):
        b = bytearray(raw)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(b))
            b[i] = rng.choice(b'[]{}",:\\ 0123456789aeE-+.\n\x00\xff' + bytes([rng.randrange(256)]))
        check(bytes(b), monkeypatch)
        check(raw[: rng.randrange(len(raw))], monkeypatch)


def test_journal_lines_read_alike(store, make_workbook, monkeypatch):
    from supervision_kit.core.journal import read_journal
    from supervision_kit.core.store import journal_path
    from supervision_kit.record import fill

    wb = make_workbook()
    for i in range(5):
        fill(wb, {"worker_agenda": f"answer {i} " + "[" * i, "session_rating": i})
    jp = journal_path(wb)
    raw = jp.read_bytes()
    rng = random.Random(5)
    for _ in range(200):
        b = bytearray(raw)
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        jp.write_bytes(bytes(b))
        got = read_journal(jp)
        with monkeypatch.context() as m:
            m.setattr(data, "_FAST", None)
            want = read_journal(jp)
        assert same(got.events, want.events)
        assert (got.bad_lines, got.torn_tail, got.unterminated) == (
            want.bad_lines, want.torn_tail, want.unterminated)
