"""``table --format parquet``: the whole record set as one Parquet file for a data warehouse.

The long table of ``load_store`` (one row per workbook × answered prompt) with typed columns a
warehouse can load without this package: answers of every kind go into ``value_json`` (the
exact JSON value), plus ``value_text`` (text answers) and ``value_number`` (numbers and
scales) for easy querying; ``meaning`` and ``context`` are JSON text. Private answers are left
out unless ``load_store(private=True)`` asked for them. The file is written 0600 (it holds
answers) via a temporary file and a rename. Needs pyarrow: ``pip install
'supervision-kit[warehouse]'``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..core.errors import InputError, KitError
from ..core.store import atomic_write, no_symlink

if TYPE_CHECKING:
    import pandas as pd

TEXT_COLUMNS = ("case", "template", "version", "worker", "supervisor", "workbook", "record",
                "section", "prompt_id", "kind", "role", "path")


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise KitError("--format parquet needs pyarrow, which is not installed: "
                       "pip install 'supervision-kit[warehouse]' (or pip install pyarrow)"
                       ) from None
    return pa, pq


def _json(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def warehouse_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The long table with one type per column (what goes into the Parquet file)."""
    import pandas as pd

    out = pd.DataFrame({c: df[c].astype("string") for c in TEXT_COLUMNS if c in df})
    out.insert(1, "date", pd.to_datetime(df["date"], errors="coerce").dt.date)
    values = list(df["value"])
    out["value_json"] = pd.array([_json(v) for v in values], dtype="string")
    out["value_text"] = pd.array([v if isinstance(v, str) else None for v in values],
                                 dtype="string")
    out["value_number"] = pd.array([_number(v) for v in values], dtype="Float64")
    for c in ("meaning", "context"):
        out[c] = pd.array([_json(v) if isinstance(v, dict) else None for v in df[c]]
                          if c in df else [None] * len(df), dtype="string")
    out["finalized"] = df["finalized"].astype("boolean") if "finalized" in df else None
    return out


def write_parquet(df: pd.DataFrame, out: str | os.PathLike[str]) -> dict[str, Any]:
    """Write ``df`` (from ``load_store``) to ``out``; ``{"path", "rows", "workbooks"}``."""
    pa, pq = _pyarrow()
    path = Path(out)
    if path.suffix.lower() not in (".parquet", ".pq"):
        raise InputError(f"--out should end in .parquet, got {path.name}")
    if not path.parent.is_dir():
        raise InputError(f"{path.parent}: no such folder")
    no_symlink(path, "output file")
    frame = warehouse_frame(df)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({
        **(table.schema.metadata or {}),
        b"supervision_kit": json.dumps({"version": __version__, "rows": "one per workbook x "
                                        "answered prompt", "value": "value_json"}).encode(),
    })
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    atomic_write(path, sink.getvalue().to_pybytes())
    return {"path": path, "rows": len(frame),
            "workbooks": int(df["path"].nunique()) if len(df) else 0}
