"""The rule that picks privacy.uncertain, on hand-made numbers."""

import numpy as np

from serve_app.lab.privacy.threshold import choose, table


def test_within_the_false_alarm_budget_fewest_leaks_then_fewest_alarms_then_lowest_cut():
    rows = [{"cut": 0.9, "leaks": 0, "false_alarms": 20, "false_alarm_share": 0.06},
            {"cut": 0.99, "leaks": 2, "false_alarms": 5, "false_alarm_share": 0.016},
            {"cut": 0.993, "leaks": 2, "false_alarms": 4, "false_alarm_share": 0.013},
            {"cut": 0.995, "leaks": 2, "false_alarms": 4, "false_alarm_share": 0.013},
            {"cut": 0.999, "leaks": 3, "false_alarms": 4, "false_alarm_share": 0.013}]
    assert choose(rows) == 0.993
    assert choose(rows, budget=1.0) == 0.9  # no budget: leaks first


def test_table_counts_leaks_and_false_alarms_of_detector_or_head():
    y = np.array([True, True, False, False])
    detected = np.array([True, False, False, False])
    scores = np.array([0.1, 0.96, 0.97, 0.2])
    by_cut = {r["cut"]: r for r in table(y, detected, scores)}
    assert by_cut[0.95] == {"cut": 0.95, "leaks": 0, "false_alarms": 1, "false_alarm_share": 0.5}
    assert by_cut[0.98]["leaks"] == 1 and by_cut[0.98]["false_alarms"] == 0
