"""supervision-kit: reflective-supervision workbooks for social workers.

Importing the package is cheap: heavy modules (nbformat, papermill, pandas, ipywidgets)
load only when the function that needs them is called.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.2.0"

# public name -> module that defines it (loaded on first use)
_API = {
    "new_workbook": "generate.render",
    "read_answers": "core.workbook",
    "open_record": "core.workbook",
    "list_prompts": "core.workbook",
    "fill": "record.fill",
    "finalize": "record.finalize",
    "sign": "signoff",
    "verify": "signoff",
    "add_addendum": "signoff",
    "history": "signoff",
    "load_store": "table.index",
    "load_prompt_set": "core.prompts",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(f"{__name__}.{_API[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
