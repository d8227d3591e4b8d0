"""Training workshops: fictional vignettes, one workbook per participant, facilitator summary."""

from .batch import generate
from .collect import collect, collect_records, summary
from .vignettes import list_vignettes, load_vignette

__all__ = ["collect", "collect_records", "generate", "list_vignettes", "load_vignette", "summary"]
