"""The one notebook writer: every .ipynb the package writes goes through ``write_notebook``.

nbformat's writer (so the file is valid nbformat 4), the trust signature (so JupyterLab renders
its outputs and widgets on open), mode 0600, never through a symlink, and an atomic replace
(temp file + fsync + rename), so a reader sees the old file or the new one, never half.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from .errors import ConflictError, WorkbookError
from .store import atomic_write, make_private_dir, no_symlink


def notebook_text(nb: Any, *, notary: Any = None, validate: bool = True) -> str:
    """``nb`` as .ipynb text: validated, signed as trusted (for this user), nbformat 4."""
    import nbformat
    from nbformat.sign import NotebookNotary

    node = nbformat.from_dict(nb)
    if validate:
        try:
            nbformat.validate(node)
        except nbformat.ValidationError as exc:
            raise WorkbookError(f"refusing to write an invalid notebook: "
                                f"{str(exc).splitlines()[0]}") from exc
    # trust is a convenience, never a reason to fail (the notary's database may be locked)
    with contextlib.suppress(Exception):
        (notary or NotebookNotary()).sign(node)
    text = nbformat.writes(node, version=4)
    return text if text.endswith("\n") else text + "\n"


def write_notebook(path: str | os.PathLike[str], nb: Any, *, new: bool = False,
                   notary: Any = None, validate: bool = True) -> Path:
    """Validate, sign as trusted and write ``nb`` (a dict or NotebookNode) to ``path``.

    ``new=True`` refuses to replace an existing file. Batch writers pass one ``notary``.
    """
    p = Path(path)
    try:
        text = notebook_text(nb, notary=notary, validate=validate)
    except WorkbookError as exc:
        raise WorkbookError(f"{p}: {exc}", path=p) from exc
    make_private_dir(p.parent)
    no_symlink(p, "notebook")
    try:
        atomic_write(p, text, exclusive=new)
    except FileExistsError:
        raise ConflictError(f"{p} already exists; refusing to overwrite it", path=p) from None
    return p
