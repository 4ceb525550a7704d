"""`triage bench learning --grid`: the runs the grid makes, from its default or given values."""

from serve_app.config.schema import LearningConfig
from serve_app.lab.learning.bench import GRID, grid, main


def test_grid_makes_one_run_per_combination_with_those_settings():
    runs = grid(LearningConfig(enabled=True), {"explore": (0.0,), "similarity": (0.9, 0.95), "strength": (30.0,)})
    assert list(runs) == ["explore=0.0 similarity=0.9 strength=30.0", "explore=0.0 similarity=0.95 strength=30.0"]
    learning = runs["explore=0.0 similarity=0.95 strength=30.0"]["learning"]
    assert learning.explore == 0.0 and learning.correction.similarity == 0.95 and learning.correction.strength == 30.0
    assert len(grid(LearningConfig(enabled=True))) == len(GRID["explore"]) * len(GRID["similarity"]) * len(
        GRID["strength"])


def test_missing_routing_data_is_a_clear_exit(tmp_path, capsys):
    try:
        main(["--grid", "--data", str(tmp_path), "--similarity", "0.9"])
    except SystemExit as exc:
        assert "triage data routing" in str(exc)
    else:
        raise AssertionError("expected SystemExit")
