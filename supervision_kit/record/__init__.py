"""Changing a record from outside a kernel: ``fill`` answers and ``finalize`` the .ipynb."""

from .fill import fill
from .finalize import finalize

__all__ = ["fill", "finalize"]
