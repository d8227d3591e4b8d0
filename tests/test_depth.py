"""The JSON nesting limit: the fast checks agree with a plain character-by-character count."""

from __future__ import annotations

import gc
import json
import random

import pytest

from supervision_kit.core import data as D
from supervision_kit.core.errors import WorkbookError


def reference(text: str, limit: int) -> bool:
    """The original rule: brackets outside strings, counted one character at a time."""
    depth, in_str, esc = 0, False, False
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


def value(rng: random.Random, d: int = 0):
    r = rng.random()
    if d > 8 or r < 0.3:
        if rng.random() < 0.6:
            return "".join(rng.choice('ab"\\[]{}\n/é') for _ in range(rng.randint(0, 8)))
        return rng.choice([1, None, True, 2.5])
    if r < 0.65:
        return [value(rng, d + 1) for _ in range(rng.randint(0, 3))]
    return {"".join(rng.choice('k"\\[{') for _ in range(rng.randint(0, 3))): value(rng, d + 1)
            for _ in range(rng.randint(0, 3))}


@pytest.mark.parametrize("cpython", [True, False])
def test_fast_checks_agree_with_the_reference(monkeypatch, cpython):
    monkeypatch.setattr(D, "_CPYTHON", cpython and D._CPYTHON)
    rng = random.Random(11)
    for i in range(4000):
        text = json.dumps(value(rng), indent=rng.choice([None, 1]),
                          ensure_ascii=rng.random() < 0.5)
        parsed = json.loads(text)
        if i % 500 == 0:
            gc.collect()  # collections untrack dicts: the fast path must still be exact
        limit = rng.randint(0, 10)
        want = reference(text, limit)
        assert D.check_depth(text, limit) == want, (text, limit)
        assert D.check_depth(text.encode(), limit) == want, (text, limit)
        assert D.nesting_ok(parsed, limit) == want, (text, limit)


def test_deep_documents_are_refused_cleanly():
    for text in ("[" * 65 + "]" * 65, "[" * 200_000 + "]" * 200_000,
                 '{"a":' * 70 + "1" + "}" * 70):
        with pytest.raises(WorkbookError, match="nested more than 64 levels"):
            D.parse_json(text, "x.ipynb", "a notebook")
    assert D.parse_json("[" * 64 + "]" * 64, "x") == json.loads("[" * 64 + "]" * 64)
    assert not D.check_depth(b'["\\"' + b"[" * 40 + b'"' + b"[" * 40, 32)
    assert D.check_depth(b'"' + b"[" * 100, 32)  # inside an unterminated string
