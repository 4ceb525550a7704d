"""Small router configs for unit tests."""

from pathlib import Path

from serve_app.config import parse_config
from serve_app.policy import Signals


def model(name, tiers, locality="local", cost=0.0, **extra):
    return {
        "name": name,
        "tiers": tiers,
        "engine": extra.pop("engine", {"type": "dry_run"}),
        "locality": locality,
        "cost": {"input_per_mtok": cost, "output_per_mtok": cost},
        **extra,
    }


def pool():
    """A four-tier pool: two local small models, a cloud LLM, a local and a cloud LRM."""
    return [
        model("small-a", ["slm"], cost=0.1),
        model("small-b", ["slm", "srm"], cost=0.2),
        model("coder", ["srm", "llm"], cost=0.5, capabilities=["code"]),
        model("cloud-llm", ["llm"], locality="cloud", cost=1.0, capabilities=["vision"]),
        model("local-lrm", ["lrm"], cost=3.0),
        model("cloud-lrm", ["lrm"], locality="cloud", cost=2.0),
    ]


def config(models=None, **sections):
    return parse_config({"models": models if models is not None else pool(), **sections})


def signals(tier="slm", domain="general", p=0.9, sensitive=False, kinds=(), jailbreak=0.0):
    tiers = {t: (p if t == tier else (1 - p) / 3) for t in ("slm", "srm", "llm", "lrm")}
    return Signals(tier_probs=tiers, domain_probs={domain: p, "general": 1 - p} if domain != "general" else {"general": p},
                   sensitive=sensitive, sensitive_kinds=tuple(kinds), jailbreak_prob=jailbreak)


# The repository root, for tests that read its files (configs, dashboards).
REPO_ROOT = Path(__file__).resolve().parents[2]
