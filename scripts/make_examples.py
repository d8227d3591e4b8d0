"""Rebuild workbooks/examples/: one finalized, fictional worked example of every template.

    python scripts/make_examples.py [NAME ...]   (default: every template)

Everything is made through the public API from the demo content (templates/demo/demo.yaml)
plus the small fictional workshop answers below, so the examples show exactly what a user's
finalized record looks like. The session example is signed by both roles and so locked.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from supervision_kit.launch.demo import build_demo_store
from supervision_kit.progress.report import make_progress
from supervision_kit.record import fill, finalize
from supervision_kit.signoff import sign
from supervision_kit.workshop import generate

OUT = Path(__file__).resolve().parent.parent / "workbooks" / "examples"
WORKSHOP_ANSWERS = {
    "ws_stood_out": "How quickly the grandmother's relapse turned into a question about the boy.",
    "ws_first_feelings": "Protective of the child, and uneasy about breaking the agreement.",
    "eth_dilemma": "Yes",
    "eth_issue": "Whether to tell the boy's mother about a relapse disclosed in key work.",
    "eth_decision": "Talk with the client first about telling her daughter together, today.",
    "ws_take_away": "Check what the confidentiality agreement actually says before deciding.",
    "ws_confidence": 4,
    "ws_group_question": "When does 'no immediate risk' stop being true?",
}


def placement_picks(store: Path) -> dict[str, Path]:
    """The placement student's records in the demo store (templates/demo/placement.yaml):
    every one signed and locked but the final evaluation, which is handed in for review."""
    final = store / "evaluations" / "2026-04-29-final_evaluation.ipynb"
    finalize(final)
    return {
        "learning_agreement": store / "learning_agreements" / "2026-01-12-learning_agreement.ipynb",
        "placement_supervision": store / "sessions" / "2026-01-21-placement_supervision.ipynb",
        "observation": store / "F-01" / "2026-02-10-observation.ipynb",
        "midpoint_evaluation": store / "evaluations" / "2026-03-02-midpoint_evaluation.ipynb",
        "final_evaluation": final,
    }


def main(only: list[str] | None = None) -> int:
    """Rebuild every example, or only the named ones (e.g. the placement templates)."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        build_demo_store(store)
        if only:
            picks = {k: v for k, v in placement_picks(store).items() if k in only}
            for name, path in picks.items():
                shutil.copyfile(path, OUT / f"{name}.ipynb")
                print(OUT / f"{name}.ipynb")
            return 0
        picks = {
            "session": store / "demo-01" / "2026-09-08-session.ipynb",
            "process_recording": store / "demo-02" / "2026-09-15-process_recording.ipynb",
            "ethics": store / "demo-02" / "2026-10-13-ethics.ipynb",
        }
        sign(picks["session"], "worker", "Jordan Reyes (fictional)")
        sign(picks["session"], "supervisor", "Priya Nair (fictional)")
        finalize(picks["session"])
        progress = make_progress("demo-01", store=store, date="2026-10-06")["notebook"]
        fill(progress, {
            "prog_changed": "Attendance and the parent's confidence have both improved steadily.",
            "review_direction": "On track",
            "prog_next_review": "2026-11-03",
        })
        finalize(progress)
        picks["progress"] = progress
        ws = generate("saturday-football", Path(tmp) / "workshop", codes=["P07"],
                      date="2026-10-20")
        wb = Path(tmp) / "workshop" / "P07-workshop.ipynb"
        fill(wb, WORKSHOP_ANSWERS)
        finalize(wb)
        picks["workshop"] = wb
        picks |= placement_picks(store)
        for name, path in picks.items():
            shutil.copyfile(path, OUT / f"{name}.ipynb")
            print(OUT / f"{name}.ipynb")
        del ws
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or None))
