import os
import stat

import pytest

from supervision_kit.core.errors import InputError
from supervision_kit.core.store import (
    atomic_write,
    check_date,
    check_id,
    journal_path,
    make_private_dir,
    store_root,
    workbook_path,
)


@pytest.mark.parametrize("good", ["demo-01", "C_014", "a", "x" * 64])
def test_check_id_accepts_safe_codes(good):
    assert check_id(good) == good


@pytest.mark.parametrize("bad", ["", "../x", "/abs", "a b", "x" * 65, "é", "a/b", ".", "a.b"])
def test_check_id_rejects_unsafe_values(bad):
    with pytest.raises(InputError, match="invalid case id"):
        check_id(bad)


def test_check_date():
    assert check_date("2026-01-05") == "2026-01-05"
    with pytest.raises(InputError, match="2026-13-01"):
        check_date("2026-13-01")


def test_store_root_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("SUPERVISION_KIT_STORE", raising=False)
    assert str(store_root()) == "workbooks"
    monkeypatch.setenv("SUPERVISION_KIT_STORE", str(tmp_path))
    assert store_root() == tmp_path
    assert store_root("other") == type(tmp_path)("other")


def test_layout(tmp_path):
    p = workbook_path(tmp_path, "c1", "2026-01-02", "session")
    assert p == tmp_path / "c1" / "2026-01-02-session.ipynb"
    assert journal_path(p).name == "2026-01-02-session.journal.jsonl"


def test_private_permissions_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        d = make_private_dir(tmp_path / "a" / "b")
        atomic_write(d / "f.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(d / "f.txt").st_mode) == 0o600


def test_atomic_write_exclusive_refuses_and_keeps_old(tmp_path):
    f = tmp_path / "f"
    atomic_write(f, "old")
    with pytest.raises(FileExistsError):
        atomic_write(f, "new", exclusive=True)
    assert f.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f"]  # no temp file left behind
