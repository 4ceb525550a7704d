"""Model -> tier mapping for the three outcome sources.

Tiers are defined by size and reasoning ability:

- slm: general-purpose models of at most 15B parameters (dense);
- srm: models of at most 15B parameters built or tuned for math/code/logic
  (mathstral-7B, Phi-3-mini, Qwen2.5-7B-Instruct). None of them is a
  "thinking" model: srm here means *small and strong on reasoning*;
- llm: general-purpose models of 30B parameters and more (MoE: total) and
  closed mid-size APIs (Gemini-1.5-Flash, GPT-3.5, Claude Instant);
- lrm: the strongest models each source has (Gemini-1.5-Pro, DeepSeek-Coder-V2
  on MMLU-Pro; Claude (1, 2, 2.1) on AlpacaEval). No source has a dedicated
  reasoning ("thinking") model, so lrm is the *strongest available*, an upper
  bound that a real reasoning model should meet or beat. routing_outcomes has
  no lrm model (its Nemotron-Super-49B reasoning toggle is undocumented: llm).

A model with `tier=None` is kept in the table (its scores can be evaluated as
a pair) but never enters a tier's success rate. `eval_only` models are held
out of the training targets: weak/strong pairs built from them measure
whether a router trained on other models' outcomes transfers to new models.
Parameter counts are billions; `None` where the vendor never published one.
"""

from __future__ import annotations

from dataclasses import dataclass

TIERS = ("slm", "srm", "llm", "lrm")


@dataclass(frozen=True)
class ModelInfo:
    params_b: float | None
    params_source: str
    tier: str | None
    eval_only: bool = False
    note: str = ""


def _m(params, source, tier, eval_only=False, note=""):
    return ModelInfo(params, source, tier, eval_only, note)


_LLAMA2 = "Llama 2 paper (arXiv 2307.09288)"
_LLAMA3 = "Meta Llama 3 model card (2024-04)"
_HERD = "The Llama 3 Herd of Models (arXiv 2407.21783)"
_MISTRAL = "Mistral 7B paper (arXiv 2310.06825)"
_MIXTRAL = "Mixtral of Experts (arXiv 2401.04088): 46.7B total, 12.9B active"
_YI = "Yi paper (arXiv 2403.04652)"
_QWEN15 = "Qwen1.5 model cards (Qwen blog, 2024-02/04)"
_GEMMA = "Gemma paper (arXiv 2403.08295)"
_CLOSED = "undisclosed by the vendor"

MMLU_PRO = {
    "DeepSeek-Coder-V2": _m(236, "DeepSeek-Coder-V2 paper (arXiv 2406.11931): 236B total, 21B active", "lrm",
                            note="math/code-specialised MoE; 1,681 questions unscored"),
    "Llama-2-13b-hf": _m(13, _LLAMA2, "slm"),
    "Llama-2-70b-hf": _m(70, _LLAMA2, "llm"),
    "Llama-2-7b-hf": _m(7, _LLAMA2, "slm"),
    "Meta-Llama-3-70B": _m(70, _LLAMA3, "llm"),
    "Meta-Llama-3-8B": _m(8, _LLAMA3, "slm"),
    "Meta-Llama-3_1-70B-Instruct": _m(70, _HERD, "llm", eval_only=True),
    "Meta-Llama-3_1-70B": _m(70, _HERD, "llm"),
    "Meta-Llama-3_1-8B-Instruct": _m(8, _HERD, "slm", eval_only=True),
    "Meta-Llama-3_1-8B": _m(8, _HERD, "slm"),
    "Mistral-7B-Instruct-v0.1": _m(7.3, _MISTRAL, "slm"),
    "Mistral-7B-Instruct-v0.2": _m(7.3, _MISTRAL, "slm", eval_only=True),
    "Mistral-7B-v0.1": _m(7.3, _MISTRAL, "slm"),
    "Mistral-7B-v0.2-hf": _m(7.3, _MISTRAL, "slm"),
    "Mixtral-8x7B-Instruct-v0.1": _m(46.7, _MIXTRAL, "llm"),
    "Mixtral-8x7B-v0.1": _m(46.7, _MIXTRAL, "llm"),
    "Phi-3-mini-4k-instruct": _m(3.8, "Phi-3 Technical Report (arXiv 2404.14219)", "srm",
                                 note="trained on reasoning-dense synthetic data; best small model on MMLU-Pro after mathstral"),
    "Qwen1.5-110B": _m(111, _QWEN15, "llm"),
    "Qwen1.5-72B-Chat": _m(72, _QWEN15, "llm", eval_only=True),
    "Qwen1.5-7B-Chat": _m(7.7, _QWEN15, "slm", eval_only=True),
    "Yi-34B": _m(34, _YI, "llm"),
    "Yi-6B": _m(6, _YI, "slm"),
    "Yi-6b-Chat": _m(6, _YI, "slm"),
    "c4ai-command-r-v01": _m(35, "Cohere c4ai-command-r-v01 model card", "llm"),
    "gemini-1.5-flash-002": _m(None, _CLOSED + " (Gemini 1.5 report, arXiv 2403.05530: the light model)", "llm"),
    "gemini-1.5-pro-002": _m(None, _CLOSED + " (Gemini 1.5 report, arXiv 2403.05530: the frontier model)", "lrm"),
    "gemma-7b": _m(8.5, _GEMMA, "slm"),
    "jamba-1.5-large": _m(398, "Jamba-1.5 paper (arXiv 2408.12570): 398B total, 94B active", "llm"),
    "mathstral-7B": _m(7.3, "Mistral AI MathΣtral model card (2024-07)", "srm",
                       note="math-specialised; best small model on MMLU-Pro math"),
}

ROUTING = {
    "mistral-7b-instruct-v0.3": _m(7.2, "models.tsv; Mistral-7B-Instruct-v0.3 model card", "slm"),
    "codegemma-7b": _m(8.5, "models.tsv; CodeGemma report (arXiv 2406.11409)", "slm", eval_only=True,
                       note="code-pretrained, not instruction-tuned"),
    "qwen2.5-7b-instruct": _m(7.6, "models.tsv; Qwen2.5 Technical Report (arXiv 2412.15115)", "srm",
                              note="math/code-heavy training (MATH 75.5 in its report)"),
    "llama-3.1-8b-instruct": _m(8.0, "models.tsv; " + _HERD, "slm", eval_only=True),
    "gemma-2-9b-it": _m(9.2, "models.tsv; Gemma 2 paper (arXiv 2408.00118)", "slm"),
    "llama-3.3-nemotron-super-49b-v1": _m(49.9, "models.tsv; NVIDIA model card", "llm", eval_only=True,
                                          note="reasoning toggle; upstream does not say which mode"),
    "llama-3.1-nemotron-51b-instruct": _m(51.5, "models.tsv; NVIDIA model card (pruned Llama-3.1-70B)", "llm"),
    "llama3-chatqa-1.5-8b": _m(8.0, "models.tsv; ChatQA paper (arXiv 2401.10225)", None, eval_only=True,
                               note="RAG/QA-tuned; fails answer formats (README caveat); pair only"),
    "llama3-chatqa-1.5-70b": _m(70.6, "models.tsv; ChatQA paper (arXiv 2401.10225)", None, eval_only=True,
                                note="RAG/QA-tuned; fails answer formats (README caveat); pair only"),
}

_LLAMA1 = "LLaMA paper (arXiv 2302.13971)"
_EXCLUDED_ALPACA = "not a base model of its own (prompt variant, judge exploit, reference or duplicate)"
_FUSE = ("FuseChat-3.0 (arXiv 2412.03187); excluded: 2024-25 preference-optimised models beat every "
         "2023 model of any size under this judge, so they measure era and judge fit, not size")

ALPACA = {
    # 2023-era instruction models, one generation, so size is the variable.
    "alpaca-7b": _m(7, "Stanford Alpaca (LLaMA-7B); " + _LLAMA1, "slm"),
    "alpaca-farm-ppo-human": _m(7, "AlpacaFarm (arXiv 2305.14387), LLaMA-7B", "slm"),
    "alpaca-farm-ppo-sim-gpt4-20k": _m(7, "AlpacaFarm (arXiv 2305.14387), LLaMA-7B", "slm"),
    "baize-v2-13b": _m(13, "Baize (arXiv 2304.01196), LLaMA-13B", "slm"),
    "chatglm2-6b": _m(6.2, "THUDM chatglm2-6b model card", "slm"),
    "falcon-7b-instruct": _m(7, "Falcon series (arXiv 2311.16867)", "slm"),
    "gemma-2b-it": _m(2.5, _GEMMA, "slm"),
    "gemma-7b-it": _m(8.5, _GEMMA, "slm"),
    "minichat-3b": _m(3, "MiniMA/MiniChat (arXiv 2311.07052)", "slm"),
    "minotaur-13b": _m(13, "OpenAccess AI Collective model card (LLaMA-13B)", "slm"),
    "nous-hermes-13b": _m(13, "NousResearch model card (LLaMA-13B)", "slm"),
    "oasst-sft-pythia-12b": _m(12, "OpenAssistant model card (Pythia-12B)", "slm"),
    "pythia-12b-mix-sft": _m(12, "OpenAssistant model card (Pythia-12B)", "slm"),
    "openbuddy-llama2-13b-v11.1": _m(13, "OpenBuddy model card (Llama-2-13B)", "slm"),
    "OpenHermes-2.5-Mistral-7B": _m(7.3, "Teknium model card (Mistral-7B)", "slm"),
    "phi-2": _m(2.7, "Microsoft Research Phi-2 blog (2023-12)", "slm"),
    "phi-2-sft": _m(2.7, "Microsoft Research Phi-2 blog (2023-12)", "slm"),
    "Qwen-14B-Chat": _m(14, "Qwen Technical Report (arXiv 2309.16609)", "slm"),
    "ultralm-13b": _m(13, "UltraChat (arXiv 2305.14233), LLaMA-13B", "slm"),
    "vicuna-13b": _m(13, "Vicuna (arXiv 2306.05685)", "slm"),
    "vicuna-13b-v1.5": _m(13, "Vicuna (arXiv 2306.05685), Llama-2-13B", "slm", eval_only=True),
    "vicuna-7b": _m(7, "Vicuna (arXiv 2306.05685)", "slm"),
    "vicuna-7b-v1.3": _m(7, "Vicuna (arXiv 2306.05685)", "slm"),
    "vicuna-7b-v1.5": _m(7, "Vicuna (arXiv 2306.05685), Llama-2-7B", "slm"),
    "wizardlm-13b": _m(13, "WizardLM (arXiv 2304.12244)", "slm"),
    "falcon-40b-instruct": _m(40, "Falcon series (arXiv 2311.16867)", "llm"),
    "openbuddy-falcon-40b-v9": _m(40, "OpenBuddy model card (Falcon-40B)", "llm"),
    "openbuddy-llama-30b-v7.1": _m(32.5, "OpenBuddy model card; " + _LLAMA1, "llm"),
    "oasst-rlhf-llama-33b": _m(32.5, "OpenAssistant model card; " + _LLAMA1, "llm"),
    "oasst-sft-llama-33b": _m(32.5, "OpenAssistant model card; " + _LLAMA1, "llm"),
    "humpback-llama2-70b": _m(70, "Instruction Backtranslation (arXiv 2308.06259)", "llm"),
    "openbuddy-llama2-70b-v10.1": _m(70, "OpenBuddy model card (Llama-2-70B)", "llm"),
    "text_davinci_001": _m(175, "InstructGPT (arXiv 2203.02155): davinci = 175B", "llm"),
    "text_davinci_003": _m(175, "InstructGPT (arXiv 2203.02155): davinci = 175B", "llm"),
    "gpt-3.5-turbo-0301": _m(None, _CLOSED, "llm"),
    "gpt-3.5-turbo-1106": _m(None, _CLOSED, "llm", eval_only=True),
    "gpt35_turbo_instruct": _m(None, _CLOSED, "llm"),
    "claude-instant-1.2": _m(None, _CLOSED + " (Anthropic's light model)", "llm"),
    "claude": _m(None, _CLOSED, "lrm"),
    "claude-2": _m(None, _CLOSED, "lrm"),
    "claude-2.1": _m(None, _CLOSED, "lrm", eval_only=True),
    "jina-chat": _m(None, _CLOSED + "; excluded: size and base model unknown", None),
    "gpt4_1106_preview": _m(None, _CLOSED + "; the judge's reference (always 0.5): excluded", None),
    "gpt4_0613_concise": _m(None, _EXCLUDED_ALPACA, None),
    "gpt4_gamed": _m(None, _EXCLUDED_ALPACA, None),
    "NullModel": _m(0, "Null Models Achieve High Win Rates (arXiv 2410.07137): a constant judge exploit", None),
    "vicuna-13b-v1.5-togetherai": _m(13, _EXCLUDED_ALPACA, None),
    **{k: _m(None, _EXCLUDED_ALPACA, None) for k in (
        "alpaca-7b_concise", "alpaca-7b_verbose", "claude-2.1_concise", "gpt-3.5-turbo-1106_concise",
        "gpt-3.5-turbo-1106_verbose", "Mixtral-8x7B-Instruct-v0.1_concise")},
    **{k: _m(p, _FUSE, None) for k, p in (
        ("FuseChat-Gemma-2-9B-Instruct", 9.2), ("FuseChat-Llama-3.1-8B-Instruct", 8.0),
        ("FuseChat-Llama-3.2-1B-Instruct", 1.2), ("FuseChat-Llama-3.2-3B-Instruct", 3.2),
        ("FuseChat-Qwen-2.5-7B-Instruct", 7.6))},
}

SOURCES = {"mmlu_pro": MMLU_PRO, "routing_outcomes": ROUTING, "alpaca_eval": ALPACA}

# Relative price per call of each tier, from the cheapest model of the tier in
# deployments/router/gpu-cluster.yaml (blended $/Mtok, 3:1 input:output):
# qwen2.5-1.5b 0.03, qwen3-4b 0.075, llama-3.3-70b 0.45, gpt-oss-120b 0.26 with
# thinking tokens (about 4x the output) -> ~1.0. Normalised to slm = 1.
TIER_COST = {"slm": 1.0, "srm": 2.5, "llm": 15.0, "lrm": 33.0}


def tier_of(source: str, model: str) -> str | None:
    return SOURCES[source][model].tier


def tier_models(source: str, tier: str, include_eval_only: bool = False) -> list[str]:
    """The models whose mean score is the tier's success on this source."""
    return [m for m, info in SOURCES[source].items()
            if info.tier == tier and (include_eval_only or not info.eval_only)]


def check_columns(source: str, columns: list[str]) -> None:
    """Every scored model must be mapped (and every mapped model present):
    a new column in the data must be a decision, not a silent drop."""
    known = set(SOURCES[source])
    missing, extra = sorted(set(columns) - known), sorted(known - set(columns))
    if missing or extra:
        raise ValueError(f"{source}: unmapped models {missing}; mapped but absent {extra}")


def markdown_table() -> str:
    lines = ["| source | model | params (B) | params from | tier | targets |", "|---|---|---|---|---|---|"]
    for source, models in SOURCES.items():
        for name, info in sorted(models.items(), key=lambda kv: (TIERS.index(kv[1].tier) if kv[1].tier else 9, kv[0])):
            use = "excluded" if info.tier is None else ("eval-only (pair hold-out)" if info.eval_only else "train")
            params = "?" if info.params_b is None else f"{info.params_b:g}"
            note = f"; {info.note}" if info.note else ""
            lines.append(f"| {source} | {name} | {params} | {info.params_source}{note} | {info.tier or '-'} | {use} |")
    return "\n".join(lines)
