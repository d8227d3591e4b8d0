"""``finalize``: make the .ipynb a self-contained record, in small notebook -> notebook steps.

embed answers (every answer cell's output re-derived from the read rule) -> embed sign-off
(signatures and addenda into metadata and a shown cell) -> stamp (format, finalized time) ->
the one notebook writer. Refuses while a kernel has the workbook open (the browser would
overwrite the file). The journal is kept: it stays the audit trail.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..core.errors import ConflictError
from ..core.formats import FORMAT
from ..core.journal import now
from ..core.lock import workbook_lock
from ..core.markers import open_in_kernel
from ..core.mirror import answer_output
from ..core.notebook import write_notebook
from ..core.prompts import is_answered
from ..core.workbook import META, NOT_DISCUSSED, Record, answer_cells, open_record
from ..signoff.embed import embed_signoff


def embed_answers(rec: Record) -> dict[str, Any]:
    """Step 1: every answer cell shows exactly its prompts' answers by the read rule (or none);
    a cell that shows its own questions shows each question above its answer."""
    from ..generate.question import QUESTION_KEY, question_output, titles_of

    nb = rec.nb
    titles = titles_of(rec.prompts)
    for i, ids in answer_cells(nb):
        cell = nb["cells"][i]
        asks = cell["metadata"][META].get(QUESTION_KEY)
        outputs: list[dict[str, Any]] = []
        for pid in ids:
            if pid not in rec.prompts:
                continue
            ans = rec.merged.get(pid, {"v": None, "t": ""})
            if asks:
                outputs.append(question_output(rec.prompts[pid], titles))
            outputs.append(answer_output(rec.prompts[pid], ans["v"], ans["t"]))
        cell["outputs"] = outputs
        cell["execution_count"] = None
    return nb


def embed_not_discussed(rec: Record, nb: dict[str, Any]) -> dict[str, Any]:
    """Step: prompts marked "not discussed this time" (with their reasons) into metadata."""
    skipped = rec.not_discussed
    if skipped:
        nb["metadata"][META][NOT_DISCUSSED] = skipped
    else:
        nb["metadata"][META].pop(NOT_DISCUSSED, None)
    return nb


def stamp(nb: dict[str, Any]) -> dict[str, Any]:
    nb["metadata"][META]["format"] = FORMAT
    nb["metadata"][META]["finalized"] = now()
    return nb


def finalize(path: str | os.PathLike[str], *, force: bool = False) -> dict[str, Any]:
    """Write every answer into the .ipynb outputs so the file alone is the complete record."""
    p = Path(path)
    open_record(p)  # a clear error for a bad file before anything is locked or written
    live = open_in_kernel(p)
    if live and not force:
        raise ConflictError(
            f"{p.name} is open in a running kernel (pid {live.get('pid')}); close it "
            "(File > Close and Shut Down Notebook) or use --force", path=p)
    with workbook_lock(p, what="finalize"):
        rec = open_record(p)
        nb = stamp(embed_signoff(rec, embed_not_discussed(rec, embed_answers(rec))))
        write_notebook(p, nb)
    return {"path": str(p), "answers": sum(is_answered(a["v"]) for a in rec.merged.values())}
