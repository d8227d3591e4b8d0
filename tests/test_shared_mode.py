"""Group folders: with SUPERVISION_KIT_SHARED_MODE=group, files made inside a setgid folder are
0660 (folders 2770) so the pair's group can use them; everywhere else stays 0600/0700.
Real OS users in a group folder are exercised by tests/e2e/test_hub.py."""

from __future__ import annotations

import os
import stat

import pytest

from supervision_kit.core.lock import lock_path, workbook_lock
from supervision_kit.core.store import journal_path
from supervision_kit.generate.render import new_workbook
from supervision_kit.record import fill
from tests.helpers import FIXTURE_TEMPLATES


def mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


def make(store, **kw):
    return new_workbook(case_id="c-1", date="2026-03-02", template="kinds",
                        templates=str(FIXTURE_TEMPLATES), worker="W", supervisor="S",
                        store=store, **kw)


@pytest.fixture
def group_dir(tmp_path):
    d = tmp_path / "pair"
    d.mkdir()
    os.chmod(d, 0o2770)
    return d


def test_default_is_private_even_in_a_setgid_folder(group_dir, monkeypatch):
    monkeypatch.delenv("SUPERVISION_KIT_SHARED_MODE", raising=False)
    nb = make(group_dir)
    with workbook_lock(nb):
        pass
    assert mode(nb) == 0o600 and mode(journal_path(nb)) == 0o600
    assert mode(nb.parent) == 0o700 and mode(lock_path(nb)) == 0o600


def test_shared_mode_only_inside_group_folders(group_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERVISION_KIT_SHARED_MODE", "group")
    old = os.umask(0o022)  # a usual umask must not take the group bits away
    try:
        nb = make(group_dir)
        fill(nb, {"story": "hello"})
        private = make(tmp_path / "own")
    finally:
        os.umask(old)
    assert mode(nb) == 0o660 and mode(journal_path(nb)) == 0o660
    assert mode(lock_path(nb)) == 0o660
    assert mode(nb.parent) == 0o2770  # the case folder is a group folder too
    assert mode(private) == 0o600 and mode(private.parent) == 0o700
