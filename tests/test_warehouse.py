"""``table --format parquet --out FILE``: the record set for a data warehouse."""

from __future__ import annotations

import json
import os
import stat
import sys

import pytest

from supervision_kit.core.errors import KitError
from supervision_kit.record import fill
from supervision_kit.table.index import load_store
from supervision_kit.table.warehouse import write_parquet
from tests.helpers import FIXTURE_TEMPLATES, run_cli


@pytest.fixture
def filled_store(store, make_workbook):
    a = make_workbook(template="kinds", templates=str(FIXTURE_TEMPLATES), case="c-1")
    fill(a, {"story": "Line one\nline two", "mood": 4, "many": ["Red", "Blue"],
             "rows": [{"who": "Worker", "said": "Hello", "level": 1, "due": "2026-04-01"}]})
    b = make_workbook(template="kinds", templates=str(FIXTURE_TEMPLATES), case="c-2",
                      date="2026-03-09")
    fill(b, {"score": 2.5, "pick": "No"})
    return store


def test_parquet_round_trip(filled_store, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "records.parquet"
    code, stdout, err = run_cli("table", "--store", filled_store, "--format", "parquet",
                                "--out", out)
    assert code == 0, err
    assert "from 2 workbook(s)" in stdout
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    table = pq.read_table(out)
    meta = json.loads(table.schema.metadata[b"supervision_kit"])
    assert meta["value"] == "value_json"
    df = table.to_pandas()
    assert len(df) == len(load_store(filled_store))
    by = df.set_index(["case", "prompt_id"])
    assert by.loc[("c-1", "story"), "value_text"] == "Line one\nline two"
    assert by.loc[("c-1", "mood"), "value_number"] == 4
    assert json.loads(by.loc[("c-1", "many"), "value_json"]) == ["Red", "Blue"]
    assert json.loads(by.loc[("c-1", "rows"), "value_json"])[0]["due"] == "2026-04-01"
    assert by.loc[("c-2", "score"), "value_number"] == 2.5
    assert str(by.loc[("c-2", "score"), "date"]) == "2026-03-09"
    for col in ("case", "template", "worker", "value_json", "meaning", "finalized"):
        assert col in df.columns


def test_parquet_needs_out_and_pyarrow(filled_store, tmp_path, monkeypatch):
    code, _out, err = run_cli("table", "--store", filled_store, "--format", "parquet")
    assert code == 2 and "needs --out" in err
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(KitError, match=r"pip install 'supervision-kit\[warehouse\]'"):
        write_parquet(load_store(filled_store), tmp_path / "x.parquet")
