"""Load-aware choice: the pure rule (prefer_free), capacity, the tracker, and
how decide() applies it without breaking the other rules."""

import pytest

from serve_app.config.schema import DeploymentSettings
from serve_app.policy import RequestFacts, decide
from serve_app.policy.load import LoadTracker, ModelLoad, capacity, prefer_free
from tests.unit.factories import config, model, signals

AUTO = RequestFacts()
ALL = ["slm", "srm", "llm", "lrm"]


def load(in_flight, cap=16, overload=0.0):
    return ModelLoad(in_flight, cap, overload)


# ---------------------------------------------------------------- prefer_free


def test_no_busy_model_keeps_the_order():
    assert prefer_free(["a", "b"], {"a": load(15), "b": load(0)}, 1.0) == (["a", "b"], [], None)


def test_a_full_model_moves_behind_one_with_room():
    order, moved, note = prefer_free(["a", "b"], {"a": load(16), "b": load(3)}, 1.0)
    assert (order, moved) == (["b", "a"], ["a"])
    assert note == "load: b preferred over a (a 16/16 in flight)"


def test_cost_order_is_kept_among_models_with_room():
    # b is emptier than c, but c is cheaper (earlier): room is enough, cost decides.
    loads = {"a": load(16), "b": load(0), "c": load(8)}
    assert prefer_free(["a", "c", "b"], loads, 1.0)[0] == ["c", "b", "a"]


def test_busy_models_go_last_most_free_first():
    loads = {"a": load(20), "b": load(16), "c": load(4, cap=4), "d": load(1)}
    order, moved, _ = prefer_free(["a", "b", "c", "d"], loads, 1.0)
    # d has room; then b and c (both exactly full, b first as before), then a (queueing).
    assert order == ["d", "b", "c", "a"] and moved == ["a", "b", "c"]


def test_every_model_busy_orders_by_free_capacity():
    order, _, note = prefer_free(["a", "b"], {"a": load(32), "b": load(17)}, 1.0)
    assert order == ["b", "a"] and note == "load: b preferred over a (a 32/16 in flight)"


def test_recent_back_pressure_counts_as_busy():
    order, moved, note = prefer_free(["a", "b"], {"a": load(0, overload=1.0), "b": load(5)}, 1.0)
    assert order == ["b", "a"] and note == "load: b preferred over a (a recent back-pressure)"
    # Decayed below half: forgotten.
    assert prefer_free(["a", "b"], {"a": load(0, overload=0.4), "b": load(5)}, 1.0)[0] == ["a", "b"]


def test_busy_at_spills_earlier():
    loads = {"a": load(8), "b": load(0)}
    assert prefer_free(["a", "b"], loads, 1.0)[0] == ["a", "b"]
    assert prefer_free(["a", "b"], loads, 0.5)[0] == ["b", "a"]


def test_unknown_load_counts_as_free_and_single_models_stay():
    assert prefer_free(["a", "b"], {"a": load(16)}, 1.0)[0] == ["b", "a"]
    assert prefer_free(["a"], {"a": load(16)}, 1.0) == (["a"], [], None)
    assert prefer_free([], {}, 1.0) == ([], [], None)


def test_model_load_accessors():
    assert load(4).free() == 0.75 and not load(4).busy(1.0) and load(4).busy(0.25)
    assert load(20).free() == -0.25 and load(20).describe() == "20/16 in flight"


# ------------------------------------------------------------------- capacity


def test_capacity_is_max_ongoing_times_replicas_over_ingress_replicas():
    def m(**deployment):
        return config([model("a", ALL, deployment=deployment)]).models[0]

    ingress = DeploymentSettings()
    assert capacity(m(max_ongoing_requests=16), ingress) == 16
    assert capacity(m(max_ongoing_requests=16, num_replicas=3), ingress) == 48
    autoscaled = m(max_ongoing_requests=4, autoscaling={"min_replicas": 1, "max_replicas": 5})
    assert capacity(autoscaled, ingress) == 20
    assert capacity(m(max_ongoing_requests=16), DeploymentSettings(num_replicas=4)) == 4
    assert capacity(m(max_ongoing_requests=2), DeploymentSettings(num_replicas=4)) == 1
    assert capacity(m(max_ongoing_requests=16), DeploymentSettings(autoscaling={"max_replicas": 4})) == 16


# -------------------------------------------------------------------- tracker


def test_tracker_counts_in_flight_and_release_is_idempotent():
    t = LoadTracker(5.0, clock=lambda: 0.0)
    r1, r2 = t.acquire("a"), t.acquire("a")
    assert t.snapshot({"a": 8, "b": 8}) == {"a": ModelLoad(2, 8), "b": ModelLoad(0, 8)}
    r1()
    r1()
    assert t.snapshot({"a": 8})["a"].in_flight == 1
    r2()
    assert t.snapshot({"a": 8})["a"].in_flight == 0


def test_back_pressure_decays_by_half_life():
    now = [0.0]
    t = LoadTracker(5.0, clock=lambda: now[0])
    t.overloaded("a")
    assert t.snapshot({"a": 8})["a"].overload == 1.0
    now[0] = 5.0
    assert t.snapshot({"a": 8})["a"].overload == pytest.approx(0.5)
    t.overloaded("a")  # adds to what is left
    assert t.snapshot({"a": 8})["a"].overload == pytest.approx(1.5)
    now[0] = 20.0
    assert not t.snapshot({"a": 8})["a"].busy(1.0)


# ------------------------------------------------------------ decide + loads


def pair(cost_b=1.0, **extra):
    return [model("a", ALL, cost=1.0, **extra), model("b", ALL, cost=cost_b, **extra),
            model("z", ALL, cost=9.0)]


def test_decide_prefers_the_model_with_room():
    d = decide(signals(), AUTO, config(pair()), {"a": load(16), "b": load(2)})
    assert d.targets == ("b", "a", "z") and d.busy == ("a",)
    assert "load: b preferred over a (a 16/16 in flight)" in d.reason
    assert d.summary()["busy"] == ["a"]
    # Idle: the plain order, no note.
    idle = decide(signals(), AUTO, config(pair()), {"a": load(0), "b": load(0)})
    assert idle.targets == ("a", "b", "z") and idle.busy == () and "load:" not in idle.reason


@pytest.mark.parametrize("cost_b, factor, promoted", [(1.4, 1.5, True), (1.5, 1.5, True), (1.6, 1.5, False),
                                                      (2.0, 1.5, False), (2.0, 2.5, True)])
def test_never_promotes_a_model_pricier_than_the_factor(cost_b, factor, promoted):
    cfg = config(pair(cost_b), policy={"load": {"cost_factor": factor}})
    d = decide(signals(), AUTO, cfg, {"a": load(16), "b": load(0)})
    assert d.targets[0] == ("b" if promoted else "a")


def test_free_pricey_fallback_is_not_pulled_forward():
    # z (9x) is free but outside the factor: a stays first though it is full.
    d = decide(signals(), AUTO, config(pair(cost_b=5.0)), {"a": load(16), "b": load(16), "z": load(0)})
    assert d.targets == ("a", "b", "z")


def test_only_the_chosen_tier_is_balanced():
    models = [model("s1", ["slm"], cost=1.0), model("s2", ["srm"], cost=1.0), model("s3", ["srm"], cost=1.0)]
    cfg = config(models + [model("big", ["llm", "lrm"])])
    d = decide(signals("slm"), AUTO, cfg, {"s1": load(16), "s2": load(0), "s3": load(0)})
    assert d.targets[0] == "s1"  # s2/s3 serve a neighbouring tier: not equally suitable


def test_load_never_breaks_privacy_vision_or_budget():
    models = [model("local", ALL, cost=1.0), model("cloud", ALL, locality="cloud", cost=1.0,
                                                    capabilities=["vision"]),
              model("pricey", ALL, cost=1.4, capabilities=["vision"])]
    cfg = config(models)
    loads = {"local": load(16), "cloud": load(0), "pricey": load(0)}
    d = decide(signals(sensitive=True, kinds=["email"]), AUTO, cfg, loads)
    assert "cloud" not in d.targets and d.targets[0] == "pricey"  # local busy; pricey is local and within 1.5x
    d = decide(signals(), RequestFacts(features=frozenset({"image"})), cfg, loads)
    assert "local" not in d.targets
    d = decide(signals(), RequestFacts(max_cost_per_mtok=1.2), cfg, loads)
    assert "pricey" not in d.targets and d.targets[0] == "cloud"


def test_specialists_and_interactive_models_are_not_displaced():
    models = [model("coder", ALL, cost=1.0, capabilities=["code"]), model("plain", ALL, cost=1.0)]
    d = decide(signals("slm", domain="code"), AUTO, config(models), {"coder": load(16), "plain": load(0)})
    assert d.targets[0] == "coder"
    models = [model("fast", ALL, cost=1.0), model("slow", ALL, cost=1.0, latency_class="batch")]
    loads = {"fast": load(16), "slow": load(0)}
    assert decide(signals(), RequestFacts(latency_class="interactive"), config(models), loads).targets[0] == "fast"
    assert decide(signals(), AUTO, config(models), loads).targets[0] == "slow"


def test_explicit_model_stays_first_even_when_full():
    d = decide(signals(), RequestFacts(model="a"), config(pair()), {"a": load(16), "b": load(0)})
    assert d.targets[0] == "a"


def test_a_free_model_beyond_max_attempts_is_pulled_in():
    models = [model(n, ALL, cost=1.0) for n in "abcd"]
    cfg = config(models, policy={"fallback": {"max_attempts": 2}})
    d = decide(signals(), AUTO, cfg, {"a": load(16), "b": load(16), "c": load(16), "d": load(0)})
    assert d.targets == ("d", "a")


def test_load_can_be_turned_off():
    cfg = config(pair(), policy={"load": {"enabled": False}})
    assert decide(signals(), AUTO, cfg, {"a": load(16), "b": load(0)}).targets[0] == "a"
    assert decide(signals(), AUTO, config(pair()), None).targets[0] == "a"


def test_saturated_needs_a_full_share_in_flight_and_recent_back_pressure():
    now = [0.0]
    t = LoadTracker(5.0, clock=lambda: now[0])
    releases = [t.acquire("m") for _ in range(2)]
    assert not t.saturated("m", 2)  # full, but nobody pushed back
    t.overloaded("m")
    assert t.saturated("m", 2) and not t.saturated("m", 3)
    releases[0]()
    assert not t.saturated("m", 2)  # room again
    t.acquire("m")
    now[0] = 10.0  # two half-lives: the pressure has faded below half
    assert not t.saturated("m", 2)
