"""Generation step: notes a new session shows in its header about the supervision agreement
(missing, unsigned, or due for review). Read from the store; never fails generation."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import KitError
from ..core.workbook import open_record

AGREEMENTS = "agreements"


def agreement_notes(root: Path, worker: str, supervisor: str, date: str) -> list[str]:
    """One line about the pair's latest agreement, or none when it is current."""
    latest = None
    folder = root / AGREEMENTS
    for path in sorted(folder.glob("*.ipynb")) if folder.is_dir() else []:
        try:
            rec = open_record(path)
        except KitError:
            continue
        info = rec.info
        if rec.template.get("kind") != "agreement" or info.get("worker") != worker \
                or info.get("supervisor") != supervisor:
            continue
        when = str(info.get("session_date", ""))
        if when <= date and (latest is None or when > latest[0]):
            latest = (when, rec)
    if latest is None:
        return ["No supervision agreement is on record for this worker and supervisor: agree "
                "one (supervision-kit new --template agreement) and sign it together."]
    when, rec = latest
    if not rec.locked:
        return [f"The supervision agreement of {when} is not signed by both of you yet."]
    review = [str(v) for pid, v in rec.answers.items()
              if rec.prompts.get(pid, {}).get("review_date") and v]
    if review and min(review) <= date:
        return [f"The supervision agreement is due for review (review date {min(review)})."]
    return []
