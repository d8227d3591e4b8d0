"""Shared fixtures: an isolated Jupyter data dir (notebook trust DB), stores and workbooks."""

from __future__ import annotations

import os

import pytest

from tests.helpers import FIXTURE_TEMPLATES


@pytest.fixture(autouse=True, scope="session")
def _isolated_jupyter(tmp_path_factory):
    data = tmp_path_factory.mktemp("jupyter-data")
    old = {k: os.environ.get(k) for k in ("JUPYTER_DATA_DIR", "SUPERVISION_KIT_STORE")}
    os.environ["JUPYTER_DATA_DIR"] = str(data)
    os.environ.pop("SUPERVISION_KIT_STORE", None)
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store"


@pytest.fixture
def make_workbook(store):
    from supervision_kit.generate.render import new_workbook

    def make(case="case-01", date="2026-03-02", template="session", **kw):
        kw.setdefault("worker", "W. Test")
        kw.setdefault("supervisor", "S. Test")
        return new_workbook(case_id=case, date=date, template=template, store=store, **kw)

    return make


@pytest.fixture
def kinds_workbook(make_workbook):
    """A workbook with one prompt of every kind (tests/fixtures/templates/kinds)."""
    return make_workbook(template="kinds", templates=str(FIXTURE_TEMPLATES))


@pytest.fixture
def filled(kinds_workbook, request):
    """The kinds workbook filled with the test module's own ``ANSWERS``."""
    from supervision_kit.record import fill

    fill(kinds_workbook, request.module.ANSWERS)
    return kinds_workbook


@pytest.fixture
def locked(filled):
    """``filled``, signed by worker and supervisor (so locked)."""
    from supervision_kit.core.workbook import open_record
    from supervision_kit.signoff import sign

    sign(filled, "worker", "W. Test")
    sign(filled, "supervisor", "S. Test")
    assert open_record(filled).locked
    return filled
