"""Rebuild workbooks/examples/: one finalized, fictional worked example of every template.

    python scripts/make_examples.py [NAME ...]   (default: every template)

Everything is made through the public API. The session, agreement and worksheets come from
the demo store (templates/demo/demo.yaml), where they are complete and signed by both roles;
the progress review is the demo's, with its reflections filled in here; the workshop is a
participant's workbook for the saturday-football vignette, answered below. Each example
passes the completeness rule (every required answer, every rating with its evidence note).
Only the .ipynb files are copied: a finalized notebook carries its answers and signatures,
so ``supervision-kit verify`` works from the file alone.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from supervision_kit.core.workbook import open_record
from supervision_kit.launch.demo import build_demo_store
from supervision_kit.record import fill, finalize
from supervision_kit.signoff import missing_required
from supervision_kit.workshop import generate

OUT = Path(__file__).resolve().parent.parent / "workbooks" / "examples"
# the demo records used as examples (store-relative); the session is about three cases
FROM_DEMO = {
    "agreement": "agreements/2026-05-05-agreement.ipynb",
    "session": "sessions/2026-08-04-session-demo-01-demo-02-demo-03.ipynb",
    "process_recording": "demo-02/2026-08-04-process_recording.ipynb",
    "ethics": "demo-02/2026-06-09-ethics.ipynb",
    "critical_incident": "demo-03/2026-08-04-critical_incident.ipynb",
    "progress": "demo-01/2026-10-06-progress.ipynb",
}
PROGRESS_ANSWERS = {
    "prog_changed": (
        "Mornings have changed most: both children on time on four or five days a week since "
        "the last weeks of the summer term, and the younger child now goes in at the gate with "
        "the pastoral assistant or a friend. The father leads the plan and is asking about an "
        "ending. My own practice has moved too: I wait after questions and summarise."),
    "prog_chart_surprise": (
        "The gap in July: the case was not discussed in that session, so the charts have no "
        "point for it, which makes the rise look steeper than it felt. Also that the "
        "supervisor's collaboration ratings are higher than mine from June on: I rate what I "
        "meant to do, Priya rates what the father says and does."),
    "prog_goal_revise": (
        "The network goal is met (+1 twice). Replace it for the last weeks with: 'Winter "
        "mornings: a back-up plan for dark, wet days that the father writes himself', levels "
        "to be written with him at the closing meeting."),
    "review_direction": "On track",
    "prog_next_review": "2026-10-16",
    "prog_supervisor_view": (
        "The charts match what I have heard from Jordan and the school: goals met as "
        "expected by the summer and above it since, steady outcome scores, and practice "
        "ratings rising without jumping. A planned closure on 16 October is right; the review "
        "at closure should check that the gains hold without us."),
}
WORKSHOP_ANSWERS = {
    "ws_stood_out": (
        "How quickly a relapse became a question about a child: \"I drove him to football like "
        "always.\" And Femi's pause before answering."),
    "ws_first_feelings": (
        "Sympathy for Lorna, who went back to her meeting on Sunday; then a jolt of worry for "
        "the boy; then unease about the promise she asked for."),
    "sg_screen": "Not sure",
    "sg_screen_note": (
        "One drive the morning after most of a bottle of wine: she may well have been over the "
        "limit. The boy is eight and cannot protect himself. Saturdays will come round again."),
    "sg_log": [{
        "concern": (
            "Lorna drove her grandson to football the morning after drinking most of a bottle "
            "of wine (her own account)."),
        "at_risk": "Her grandson (8)",
        "threshold": (
            "One incident is probably below the threshold for a section 47 enquiry, but the "
            "risk is to a child's life on the road and could recur next Saturday, so it needs "
            "a plan this week and advice from the safeguarding lead."),
        "action": (
            "Femi consults the safeguarding lead today without naming Lorna first; agrees with "
            "Lorna that she does not drive him after drinking; supports her to tell her "
            "daughter herself by Friday."),
        "consulted": "Safeguarding lead (today)",
        "by_when": "2026-10-23",
        "status": "Open - action in progress",
    }],
    "sg_escalation": "No",
    "eth_dilemma": "Yes",
    "eth_issue": (
        "Lorna disclosed a relapse in key work and asked that it stay in the room. She drove "
        "her grandson the next morning. Should Femi keep the confidence or make sure the boy's "
        "mother knows?"),
    "eth_affected": (
        "Lorna and her recovery; her grandson; her daughter, who decides who cares for him; "
        "Femi and the programme, whose confidentiality agreement is at stake."),
    "eth_values": [
        "NASW: Dignity and worth of the person",
        "NASW: Integrity",
        "BASW: Human rights",
        "IFSW: The right to self-determination",
        "IFSW: Confidentiality and privacy",
    ],
    "eth_rules_screen": "Rules conflict",
    "eth_rules_note": (
        "The programme's agreement keeps what is said private unless there is a serious risk "
        "to someone else, especially a child; the BASW code puts a child's safety first but "
        "asks for proportionate sharing. Whether one morning's drive is a 'serious risk' is "
        "exactly what the rules leave open, so they do not settle it."),
    "eth_principles": [
        {"principle": "1 Protection of life",
         "how_it_applies": (
             "A child driven by someone who may be over the limit is a risk to his life. A "
             "promise from Lorna alone, days after a relapse, is not a safe enough guard for a "
             "child who cannot protect himself: his mother needs to know."),
         "weight": "Decisive"},
        {"principle": "3 Autonomy and freedom",
         "how_it_applies": "Lorna's choice to keep it private; outweighed by principle 1.",
         "weight": "Relevant"},
        {"principle": "4 Least harm",
         "how_it_applies": (
             "Shapes how: Lorna tells her daughter herself, with support, before Femi would."),
         "weight": "Relevant"},
        {"principle": "6 Privacy and confidentiality",
         "how_it_applies": "Lorna's privacy, kept as far as the boy's safety allows.",
         "weight": "Relevant"},
    ],
    "eth_options": [
        {"option": "Keep the confidence", "benefits": "Keeps Lorna engaged and trusting.",
         "risks": "The boy may be driven after drinking again.",
         "who_benefits": "Lorna", "who_harmed": "Her grandson"},
        {"option": "Femi tells the daughter now, without Lorna",
         "benefits": "The boy's mother can protect him at once.",
         "risks": "Lorna may feel betrayed and leave the programme.",
         "who_benefits": "Her grandson, her daughter", "who_harmed": "Lorna's recovery"},
        {"option": "Lorna tells her daughter herself by Friday, with Femi's support; Femi "
                   "tells her if she does not",
         "benefits": "Protects the boy and gives Lorna the chance to keep her dignity.",
         "risks": "A few days' delay; she may not do it.",
         "who_benefits": "All three", "who_harmed": "No one clearly"},
    ],
    "eth_consulted": "The programme's safeguarding lead (today), then Femi's supervisor.",
    "eth_decision": (
        "Femi tells Lorna honestly that her daughter needs to know. Lorna tells her herself by "
        "Friday, with Femi there if she wants; until then she agrees not to drive him. If she "
        "does not, Femi tells the daughter and says so to Lorna first."),
    "eth_rationale": (
        "The rules conflict, so the principles decide. Protection of life ranks first and is "
        "decisive: the boy's safety cannot rest on a promise alone. Least harm decides how: "
        "Lorna gets the chance to tell her daughter herself."),
    "eth_review_date": "2026-10-23",
    "eth_info_sharing": (
        "Nothing shared yet. Femi would share only the drink-driving risk with the boy's mother "
        "and the safeguarding lead, not the wider details of Lorna's recovery, and Lorna would "
        "know before it happened."),
    "cc_active_listening_rating": 4,
    "cc_active_listening_evidence": (
        "Femi let Lorna finish each point, and picked up \"I drove him to football\" with a "
        "pause and a plain repeat rather than moving on."),
    "cc_trust_building_rating": 4,
    "cc_trust_building_evidence": (
        "Before she disclosed, Femi said there are things he cannot keep to himself: honest "
        "about the limits of confidentiality at the right moment."),
    "cc_trust_building_response": "Lorna told him anyway, and explained what she was afraid of.",
    "cc_empathy_rating": 4,
    "cc_empathy_evidence": (
        "\"That must have been hard to say out loud, after five months\" and \"I can hear how "
        "much he means to you\": two accurate reflections of feeling."),
    "cc_empathy_response": "She said why she is doing any of this: her grandson.",
    "cc_respect_rating": 3,
    "cc_respect_evidence": (
        "Femi acknowledged her going back to her meeting on Sunday, but has not yet asked what "
        "she thinks should happen now."),
    "cc_ability_now": "Able to take part fully",
    "vq_keep_or_share": (
        "Neither keep it nor go over Lorna's head: make sure the daughter knows, by Lorna "
        "telling her herself by Friday with Femi's support, and no driving until then; Femi "
        "tells her if Lorna does not. Reasons: the boy's safety next Saturday, Lorna's own "
        "agreement said serious risk to a child is the limit, and her recovery needs her to "
        "keep as much control as she can."),
    "vq_effects": (
        "Recovery: at risk if she feels betrayed, so she chooses how it is said. Trust: holds "
        "if Femi is honest now about the limit she signed. Grandson: safe next Saturday, and "
        "his mother can plan."),
    "vq_explain": (
        "\"Lorna, thank you for telling me. Because you drove him the next morning, his mum "
        "needs to know, and I think it is better coming from you. I'll help, and I'll be there "
        "if you want. If you decide not to, I will have to tell her, and I will tell you "
        "first.\""),
    "ws_take_away": (
        "State the limits of confidentiality before the disclosure, not after, as Femi did."),
    "ws_confidence": 4,
    "ws_group_question": "When does 'no immediate risk' stop being true?",
}


FINAL_EDUCATOR = {
    "ev_strengths": "Builds trust quickly and explains what is and is not negotiable plainly; "
                    "her recordings show analysis, not just description.",
    "ev_development": "Policy practice: take part in one service-design or policy forum in her "
                      "first year, with her supervisor's support.",
    "ev_recommendation_reasons": "Evidence across eight of nine competencies at the expected "
                                 "level or above; the remaining gap is planned for.",
}


def complete_final(path: Path) -> None:
    """The demo leaves the final evaluation handed in for review; the worked example shows it
    finished: the educator's ratings (the framework level the evidence supports, one below the
    student's own where the student rated higher), the educator's summary, and both signatures."""
    from supervision_kit.signoff import sign

    for _round in range(2):  # ratings first; then the evidence notes they now require
        _complete_round(path)
    rec = open_record(path)
    sign(path, "worker", rec.info["worker"])
    sign(path, "supervisor", rec.info["supervisor"])


def _complete_round(path: Path) -> None:
    rec = open_record(path)
    answers: dict[str, object] = {}
    for pid, _label in missing_required(rec):
        p = rec.prompts[pid]
        if pid in FINAL_EDUCATOR:
            answers[pid] = FINAL_EDUCATOR[pid]
        elif p["kind"] == "scale":
            own = rec.answers.get(pid.replace("ev_educator", "ev_self"))
            answers[pid] = max(p["min"], min(p["max"], (own if isinstance(own, int) else 3)))
        elif p["kind"] == "choice":
            answers[pid] = p["options"][0]
        else:
            answers[pid] = "Seen in the tagged evidence quoted above for this competency."
    if answers:
        fill(path, answers)


def placement_picks(store: Path) -> dict[str, Path]:
    """The placement student's records in the demo store (templates/demo/placement.yaml),
    every one signed and locked (the final evaluation completed here)."""
    final = store / "evaluations" / "2026-04-29-final_evaluation.ipynb"
    complete_final(final)
    finalize(final)
    return {
        "learning_agreement": store / "learning_agreements" / "2026-01-12-learning_agreement.ipynb",
        "placement_supervision": sorted((store / "sessions").glob(
            "2026-01-21-placement_supervision*.ipynb"))[0],
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
        picks = {name: store / rel for name, rel in FROM_DEMO.items()}
        fill(picks["progress"], PROGRESS_ANSWERS)
        finalize(picks["progress"])
        generate("saturday-football", Path(tmp) / "workshop", codes=["P07"], date="2026-10-20")
        picks["workshop"] = Path(tmp) / "workshop" / "P07-workshop.ipynb"
        fill(picks["workshop"], WORKSHOP_ANSWERS)
        finalize(picks["workshop"])
        picks |= placement_picks(store)
        if only:
            picks = {k: v for k, v in picks.items() if k in only}
        for name, path in picks.items():
            missing = missing_required(open_record(path))
            if missing:
                raise SystemExit(f"{name} example is incomplete: {missing}")
            shutil.copyfile(path, OUT / f"{name}.ipynb")
            print(OUT / f"{name}.ipynb")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or None))
