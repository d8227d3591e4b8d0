"""Changing a record from outside a kernel: ``fill`` answers and ``finalize`` the .ipynb."""

from .fill import fill
from .finalize import finalize
from .skip import mark_not_discussed

__all__ = ["fill", "finalize", "mark_not_discussed"]
