"""The caseload view: every supervisee across one or more stores (``supervision-kit
caseload``). See docs/scale.md."""

from .api import Caseload, load_caseload

__all__ = ["Caseload", "load_caseload"]
