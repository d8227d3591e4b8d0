"""Compatibility entry point for workbooks made by supervision-kit 0.1, whose setup cell says
``from supervision_kit.widgets import open_workbook``. New workbooks import from ``kernel``."""

from .kernel import open_workbook

__all__ = ["open_workbook"]
