import datetime as dt
import math

import pytest

from supervision_kit.core.errors import InputError
from supervision_kit.progress import measures as P
from supervision_kit.record import fill, finalize
from supervision_kit.table.index import load_store

# ---------------------------------------------------------------- a fictional case


SESSIONS = [
    # date, answers
    ("2026-01-12", {
        "goals": [
            {"goal": "Gets to the drop-in on her own twice a week", "weight": 2,
             "expected": "Goes twice a week without a reminder call",
             "target_date": "2026-04-30"},
            {"goal": "Opens post with a support worker every Friday", "weight": None},
        ],
        "actions": [{"action": "Send the drop-in timetable", "owner": "Worker",
                     "due": "2026-01-19"}],
        "cc_empathy_rating": 2, "cc_empathy_rating_sup": 2, "cw_planning_rating": 3,
        "session_rating": 5, "duration_minutes": 60,
    }),
    ("2026-02-09", {
        "cf_goals_1_score": -1, "cf_goals_2_score": 0, "cf_actions_1_status": "Done",
        "cc_empathy_rating": 3, "cc_empathy_rating_sup": 2, "cw_planning_rating": 3,
        "session_rating": 6, "duration_minutes": 90,
        "outcome_measure": "Licensed wellbeing measure", "outcome_score": 18,
        "actions": [{"action": "Ask the day centre about a buddy", "owner": "Both"}],
        # goals are carried from the previous session's table, so they are listed again
        "goals": [
            {"goal": "Gets to the drop-in on her own twice a week", "weight": 2},
            {"goal": "Opens post with a support worker every Friday"},
        ],
    }),
    ("2026-03-09", {
        "cf_goals_1_score": 1, "cf_goals_2_score": 1, "cf_actions_1_status": "Partly done",
        "cc_empathy_rating": 4, "cc_empathy_rating_sup": 3, "cw_planning_rating": 4,
        "session_rating": 8, "duration_minutes": 75,
        "outcome_measure": "Licensed wellbeing measure", "outcome_score": 29,
    }),
]


def build_case(make_workbook, case="demo-01", sessions=SESSIONS, finalize_first=True):
    """A case with the given sessions (filled in date order; the first one finalized)."""
    paths = []
    for n, (date, answers) in enumerate(sessions):
        path = make_workbook(case=case, date=date)
        fill(path, answers)
        if n == 0 and finalize_first:
            finalize(path)
        paths.append(path)
    return paths


@pytest.fixture
def case_df(make_workbook, store):
    build_case(make_workbook)
    return load_store(store)


# ---------------------------------------------------------------- GAS


@pytest.mark.parametrize(("scores", "weights", "expected"), [
    ([0, 0, 0], None, 50.0),
    ([2], None, 70.0),  # one goal: denominator is 1
    ([1, 1], None, 50 + 20 / math.sqrt(2.6)),  # 62.403
    ([1, -1], [2, 1], 50 + 10 / math.sqrt(6.2)),  # 54.016
    ([-2, 0, 1], [1, 2, 3], 50 + 10 / math.sqrt(20.6)),  # Σw²=14, Σw=6: 0.7·14+0.3·36
    ([-2, -2], None, 50 - 40 / math.sqrt(2.6)),
])
def test_gas_known_answers(scores, weights, expected):
    assert P.gas_t_score(scores, weights) == pytest.approx(expected)


def test_gas_hand_values():
    assert P.gas_t_score([1, 1]) == pytest.approx(62.4035, abs=1e-4)
    assert P.gas_t_score([1, -1], [2, 1]) == pytest.approx(54.0161, abs=1e-4)
    assert P.gas_t_score([1, 1], rho=0) == pytest.approx(50 + 20 / math.sqrt(2))


@pytest.mark.parametrize(("scores", "weights", "match"), [
    ([3], None, "-2 to \\+2"),
    ([-2.5], None, "-2 to \\+2"),
    ([1, 0], [1], "2 scores but 1 weights"),
    ([1], [0], "greater than 0"),
    ([], None, "at least one"),
    ([float("nan")], None, "finite"),
    ([True], None, "finite number"),
    (["1"], None, "finite number"),
])
def test_gas_rejects_bad_input(scores, weights, match):
    with pytest.raises(InputError, match=match):
        P.gas_t_score(scores, weights)


def test_gas_rejects_bad_rho():
    with pytest.raises(InputError, match="rho"):
        P.gas_t_score([0], rho=1)


# ---------------------------------------------------------------- RCI


def test_reliable_change_known_answers():
    # SE = 7.5·√0.2 = 3.354; √(2·SE²) = 4.743
    rci, reliable = P.reliable_change(20, 30, sd=7.5, reliability=0.8)
    assert rci == pytest.approx(10 / math.sqrt(2 * 7.5**2 * 0.2)) and rci == pytest.approx(2.108,
                                                                                          abs=1e-3)
    assert reliable
    rci, reliable = P.reliable_change(20, 25, 7.5, 0.8)
    assert rci == pytest.approx(1.054, abs=1e-3) and not reliable
    rci, reliable = P.reliable_change(20, 10, 7.5, 0.8)
    assert rci == pytest.approx(-2.108, abs=1e-3) and reliable
    assert P.reliable_change_threshold(7.5, 0.8) == pytest.approx(1.96 * 4.7434, abs=1e-3)


@pytest.mark.parametrize(("sd", "r", "match"), [(0, 0.8, "sd"), (5, 1, "reliability"),
                                                (5, -0.1, "reliability")])
def test_reliable_change_rejects_bad_input(sd, r, match):
    with pytest.raises(InputError, match=match):
        P.reliable_change(1, 2, sd, r)


# ---------------------------------------------------------------- supervision frequency


def test_frequency_against_monthly_standard():
    sessions = [("2026-01-10", 60), ("2026-01-10", 30), ("2026-01-24", 45), ("2026-03-03", 90)]
    f = P.supervision_frequency(sessions)
    assert list(f["month"]) == ["2026-01", "2026-02", "2026-03"]
    assert list(f["sessions"]) == [2, 0, 1]  # same day counts once, at its longest
    assert list(f["hours"]) == [1.75, 0.0, 1.5]
    assert list(f["meets"]) == [True, False, True]


def test_frequency_custom_standard_and_until():
    std = P.SupervisionStandard(min_hours_per_month=2)
    f = P.supervision_frequency([(dt.date(2026, 1, 5), 100)], std, until="2026-02-20")
    assert list(f["meets"]) == [False, False] and list(f["hours_required"]) == [2, 2]
    assert P.supervision_frequency([]).empty


def test_newly_qualified_schedule():
    std = P.SupervisionStandard(newly_qualified=True, start=dt.date(2026, 1, 5))
    assert std.sessions_required(2026, 1) == pytest.approx(27 / 7, abs=0.01)  # weekly
    assert std.sessions_required(2026, 2) == pytest.approx(15 / 7 + 13 / 14, abs=0.01)
    assert std.sessions_required(2026, 4) == pytest.approx(30 / 14, abs=0.01)  # fortnightly
    assert std.sessions_required(2026, 9) == 1.0  # monthly after six months
    f = P.supervision_frequency([("2026-01-07", 90), ("2026-01-14", 90), ("2026-01-21", 90)],
                                std)
    assert f.loc[0, "sessions_required"] == pytest.approx(3.86) and not f.loc[0, "meets"]
    with pytest.raises(InputError, match="start date"):
        P.SupervisionStandard(newly_qualified=True).sessions_required(2026, 1)


def test_six_months_end_on_the_right_day_across_a_year_end():
    # six months from 31 August is 28 February (no 31st): fortnightly until the 27th, monthly
    # (one session spread over the month's 28 days) from the 28th
    std = P.SupervisionStandard(newly_qualified=True, start=dt.date(2025, 8, 31))
    assert std.sessions_required(2026, 2) == pytest.approx(27 / 14 + 1 / 28, abs=0.01)
    assert std.sessions_required(2026, 1) == pytest.approx(31 / 14, abs=0.01)
    assert std.sessions_required(2026, 3) == 1.0


def test_reliable_change_boundaries_and_errors():
    # sd 1, r 0.5: SE = sqrt(0.5), so the denominator sqrt(2 SE^2) is exactly 1
    assert P.reliable_change(0, 1.96, sd=1, reliability=0.5) == (pytest.approx(1.96), False)
    assert P.reliable_change(0, 1.97, sd=1, reliability=0.5)[1] is True
    assert P.reliable_change(0, 1, sd=0.5, reliability=0)[0] == pytest.approx(1 / math.sqrt(0.5))
    for args, name in (((None, 1, 1, 0.5), "pre"), ((1, "x", 1, 0.5), "post"),
                       ((1, 1, float("nan"), 0.5), "sd"), ((1, 1, 1, True), "reliability")):
        with pytest.raises(InputError, match=f"^{name} must be a finite number"):
            P.reliable_change(*args)
    with pytest.raises(InputError, match="sd must be greater than 0"):
        P.reliable_change(1, 2, 0, 0.5)
    with pytest.raises(InputError, match="reliability must be in"):
        P.reliable_change(1, 2, 1, 1)


# ---------------------------------------------------------------- builders on a real store


def test_goal_scores_and_gas_per_session(case_df):
    goals = P.goal_scores(case_df, "demo-01")
    assert list(goals["score"]) == [-1, 0, 1, 1]
    assert list(goals["weight"]) == [2, 1, 2, 1]  # from the carried goal rows, None -> 1
    assert set(goals["source"]) == {"carried forward"}
    gas = P.gas_by_session(case_df, "demo-01")
    assert [d.strftime("%Y-%m-%d") for d in gas["date"]] == ["2026-02-09", "2026-03-09"]
    # by hand: T = 50 + 10·Σwx / √(0.7·Σw² + 0.3·(Σw)²); w = (2, 1) -> √(0.7·5 + 0.3·9) = √6.2
    assert gas["t_score"].iloc[0] == pytest.approx(50 - 20 / math.sqrt(6.2))  # x = (-1, 0)
    assert gas["t_score"].iloc[1] == pytest.approx(50 + 30 / math.sqrt(6.2))  # x = (1, 1)
    assert gas["t_score"].round(4).tolist() == [41.9678, 62.0483]


def test_goal_table_attainment_counts_unless_carried(make_workbook, store):
    build_case(make_workbook, sessions=[("2026-04-01", {"goals": [
        {"goal": "Keeps a weekly budget", "attainment": 2, "weight": 3},
        {"goal": "Not yet reviewed"},
    ]})])
    goals = P.goal_scores(load_store(store))
    assert list(goals["goal"]) == ["Keeps a weekly budget"]
    assert list(goals["source"]) == ["goals table"] and list(goals["weight"]) == [3]


def test_ratings_self_and_supervisor(case_df):
    r = P.ratings(case_df, "demo-01")
    emp = r[r["item"] == "Empathy"]
    assert list(emp.loc[emp["rater"] == "self", "rating"]) == [2, 3, 4]
    assert list(emp.loc[emp["rater"] == "supervisor", "rating"]) == [2, 2, 3]
    assert set(r.loc[r["item"] == "Collaborative planning", "group"]) == {"Casework methods"}


def test_outcomes_and_actions(case_df):
    o = P.outcomes(case_df, "demo-01")
    assert list(o.loc[o["measure"] == "Session rating", "score"]) == [5, 6, 8]
    assert list(o.loc[o["measure"] == "Licensed wellbeing measure", "score"]) == [18, 29]
    a = P.action_status(case_df, "demo-01")
    done = a.set_index("action")
    assert done.loc["Send the drop-in timetable", "status"] == "Done"
    assert done.loc["Ask the day centre about a buddy", "status"] == "Partly done"
    assert done.loc["Ask the day centre about a buddy", "reviewed"].day == 9
    assert done.loc["Send the drop-in timetable", "owner"] == "Worker"
    assert str(done.loc["Send the drop-in timetable", "due"]) == "2026-01-19"
    assert done.loc["Send the drop-in timetable", "agreed"].strftime("%Y-%m-%d") == "2026-01-12"
    assert done.loc["Send the drop-in timetable", "reviewed"].strftime("%m-%d") == "02-09"
    assert set(a["kind"]) == {"actions"} and len(a) == 2
    summary = P.goal_summary(case_df, "demo-01")
    assert list(summary["latest_score"]) == [1, 1]
    assert list(summary["goal"]) == ["Gets to the drop-in on her own twice a week",
                                     "Opens post with a support worker every Friday"]
    assert list(summary["weight"]) == [2.0, 1.0]  # a missing weight counts as 1
    # what the goal table said when the goal was set (its carry ``context`` columns)
    said = [[str(v) if isinstance(v, str | dt.date) else None for v in summary[col]]
            for col in ("expected", "target_date")]  # a blank cell reads as None or NaN
    assert said == [["Goes twice a week without a reminder call", None], ["2026-04-30", None]]
    assert [d.strftime("%m-%d") for d in summary["set"]] == ["01-12", "01-12"]
    assert [d.strftime("%m-%d") for d in summary["scored"]] == ["03-09", "03-09"]
    assert list(summary.columns) == ["set", "goal", "expected", "target_date", "weight",
                                     "latest_score", "scored"]


def test_worker_sessions_feed_frequency(case_df):
    sessions = P.worker_sessions(case_df, "W. Test")
    assert [m for _d, m in sessions] == [60, 90, 75]
    f = P.supervision_frequency(sessions)
    assert list(f["meets"]) == [False, True, False]
    assert P.worker_sessions(case_df, "Someone Else") == []
