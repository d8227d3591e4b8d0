"""supervision-kit: reflective-supervision workbooks for social workers.

Importing the package is cheap: heavy modules (nbformat, papermill, pandas, ipywidgets)
load only when the function that needs them is called.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it (loaded on first use)
_API = {
    "new_workbook": "generate",
    "read_answers": "record",
    "fill": "record",
    "finalize": "record",
    "list_prompts": "record",
    "load_store": "table",
    "load_prompt_set": "prompts",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(f"{__name__}.{_API[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
