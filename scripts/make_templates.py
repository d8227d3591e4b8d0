"""Write the template notebooks in templates/ (run after changing their shared skeleton).

    python scripts/make_templates.py

Each template is the same skeleton: header, papermill parameters, setup, prompt placeholder,
closing notes and the finishing panel. Prompt content lives in templates/prompts/<name>.yaml,
not here. The parameters cell ships the workbook's stylesheet as its output (kernel/look.py):
the workbook's first output, so it reads like a form as soon as it opens (tests check it
matches the package's).
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from supervision_kit.kernel.look import (  # noqa: E402
    quiet_output,
    script_output,
    stylesheet_output,
)

START = (
    "> **▶ To start, choose _Run ▸ Run All Cells_** in the menu bar (in app mode this happens "
    "for you). The questions then appear as boxes and buttons. **Every answer is saved "
    "automatically as you type** (into a journal beside this file)."
)
HEADERS = {
    "session": "# Supervision session\n\n**Cases** $cases · **Date** $session_date · "
    "**Worker** $worker · **Supervisor** $supervisor  \n$focus_line",
    "process_recording": "# Process recording\n\n**Case** $case_id · **Date** $session_date · "
    "**Worker** $worker · **Supervisor** $supervisor  \n$focus_line\n\n"
    "Write the exchanges as they happened, with no names, addresses or other details that "
    "could identify anyone.",
    "ethics": "# Ethical dilemma worksheet\n\n**Case** $case_id · **Date** $session_date · "
    "**Worker** $worker · **Supervisor** $supervisor  \n$focus_line",
    "progress": "# Progress review\n\n**Case** $case_id · **Date** $session_date · "
    "**Worker** $worker · **Supervisor** $supervisor",
    "workshop": "# Training workshop\n\n**Participant** $case_id · **Date** $session_date\n\n"
    "**Fictional training material only: do not enter real client information.**",
    "agreement": "# Supervision agreement\n\n**Worker** $worker · **Supervisor** $supervisor · "
    "**Date** $session_date\n\n"
    "One agreement for this worker and supervisor. Fill it in together, review it at least "
    "once a year, and both sign it.",
    "critical_incident": "# Critical incident analysis\n\n**Case** $case_id · **Date** "
    "$session_date · **Worker** $worker · **Supervisor** $supervisor  \n$focus_line\n\n"
    "If anyone may still be at risk, act under your local safeguarding procedure now; do not "
    "wait to finish this record. Use roles and case ids, never names.",
    # placements (docs/placements.md)
    "learning_agreement": "# Placement learning agreement\n\n**Student** $worker · "
    "**Practice educator** $supervisor · **Date** $session_date · **Framework** $framework\n\n"
    "Agree it together at the start of the placement and both sign it. The framework was "
    "chosen when this workbook was made (`--param framework=NAME`); the evaluations use it.",
    "placement_supervision": "# Placement supervision\n\n**Cases** $cases · **Date** "
    "$session_date · **Student** $worker · **Practice educator** $supervisor  \n$focus_line",
    "observation": "# Direct observation of practice\n\n**Case** $case_id · **Date** "
    "$session_date · **Student** $worker · **Practice educator** $supervisor\n\n"
    "Observe only with the person's agreement. Use roles and case ids, never names.",
    "midpoint_evaluation": "# Placement mid-point evaluation\n\n**Student** $worker · "
    "**Practice educator** $supervisor · **Date** $session_date · **Framework** $framework",
    "final_evaluation": "# Placement final evaluation\n\n**Student** $worker · "
    "**Practice educator** $supervisor · **Date** $session_date · **Framework** $framework",
}
CLOSING = (
    "## When you have finished\n\n"
    "Read the record through together. Your answers are already saved as you type. Below: "
    "**Check what is missing**, then each of you checks your name and presses **Sign**; "
    "once both have signed, the record is locked. **Save the complete record** puts every "
    "answer into this notebook file.\n\n"
    "_The same from a terminal:_ `supervision-kit sign <this file> --role worker|supervisor "
    "--name NAME`, and after closing the notebook `supervision-kit finalize <this file>`."
)
CLOSING_WORKSHOP = (
    "## Before you leave\n\n"
    "This workshop server is deleted after about ten idle minutes. Your answers are saved as "
    "you type, but **download your workbook** with the button below before you go; you can "
    "upload it again later to carry on."
)
PARAMS = """# Parameters (papermill fills these in when the workbook is generated)
from supervision_kit.kernel.look import show_stylesheet  # the workbook's look

worker = ""
supervisor = ""
case_id = ""
session_date = ""
focus = ""
template = "{name}"
template_version = ""
workbook_file = ""
show_stylesheet()
"""
SETUP = ("# Loads your saved answers (runs when you choose Run All)\n"
         "from supervision_kit.kernel import open_workbook\n\nwb = open_workbook(workbook_file)")
# The review panel (placements): submit / return, comments, evidence tags, review state.
REVIEW = ("# Review: hand in, comments and evidence tags\n"
          "from supervision_kit.kernel.review import review_panel\n\nreview_panel(wb)")
FINISH = "# Check, sign and save\nwb.finish_panel()"
# Extra hidden code cells per template: (tag, code, position "top" after setup / "end").
EXTRA_CODE = {
    "session": [("progress_strip", "# Progress so far\nwb.progress_strip()", "top"),
                ("signoff", FINISH, "end")],
    "process_recording": [("signoff", FINISH, "end")],
    "ethics": [("signoff", FINISH, "end")],
    "progress": [("progress_review", "# Progress charts\nwb.progress_review()", "top"),
                 ("signoff", FINISH, "end")],
    "workshop": [("download", "# Download my workbook\nwb.download_panel()", "end")],
    "agreement": [("signoff", FINISH, "end")],
    "critical_incident": [("signoff", FINISH, "end")],
    "learning_agreement": [("signoff", FINISH, "end")],
    "placement_supervision": [("review", REVIEW, "end"),
                              ("signoff", FINISH, "end")],
    "observation": [("review", REVIEW, "end"),
                    ("signoff", FINISH, "end")],
    "midpoint_evaluation": [("review", REVIEW, "end"),
                            ("signoff", FINISH, "end")],
    "final_evaluation": [("review", REVIEW, "end"),
                         ("signoff", FINISH, "end")],
}
EXTRA_CODE["process_recording"].insert(0, ("review", REVIEW, "end"))


def md(text, tag):
    return {"cell_type": "markdown", "metadata": {"tags": [tag]}, "source": text}


def code(src, tag, outputs=None):
    """A hidden code cell; until it first runs it shows nothing (a quiet marker output)."""
    return {"cell_type": "code", "execution_count": None,
            "metadata": {"tags": [tag], "jupyter": {"source_hidden": True}},
            "outputs": [quiet_output()] if outputs is None else list(outputs), "source": src}


def notebook(name):
    cells = [md(HEADERS[name] + "\n\n" + START, "header"),
             code(PARAMS.format(name=name), "parameters", [stylesheet_output(), script_output()]),
             code(SETUP, "setup")]
    extra = EXTRA_CODE.get(name, [])
    cells += [code(src, tag) for tag, src, where in extra if where == "top"]
    cells.append(md("(the prompts of the prompt set are inserted here)", "prompts"))
    cells.append(md(CLOSING_WORKSHOP if name == "workshop" else CLOSING, "closing"))
    cells += [code(src, tag) for tag, src, where in extra if where == "end"]
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "templates"
    for name in HEADERS:
        nb = notebook(name)
        for i, cell in enumerate(nb["cells"]):
            cell["id"] = f"{name[:8]}-{i}"
        (out / f"{name}.ipynb").write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        print(out / f"{name}.ipynb")
