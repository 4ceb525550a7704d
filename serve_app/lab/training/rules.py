"""Label rules: pure functions from source fields to (labels, rule name).

Every rule returns the `label_rule` string stored on the row, so a label in
the training set can always be traced back to the line of code that made it.
Rules follow ../shared/datasets/README.md; where we deviate, the comment says why.
"""

from __future__ import annotations

MMLU_DOMAIN = {
    "biology": "science", "chemistry": "science", "physics": "science",
    "business": "financial", "economics": "financial",
    "computer science": "code", "engineering": "engineering", "health": "medical",
    "history": "humanities", "philosophy": "humanities", "psychology": "humanities",
    "law": "legal", "math": "math", "other": "general",
}
# Categories whose hard questions need multi-step derivation (lrm), as opposed
# to knowledge synthesis (llm): the README's split for the fall-through case.
_MMLU_REASONING = {"math", "physics", "chemistry", "engineering", "computer science"}


def mmlu_tier(small_acc: float, large_acc: float, category: str, src: str) -> str:
    """Outcome-based tier from the small/large model-group accuracies."""
    if small_acc >= 0.67:
        return "slm"
    if small_acc >= 0.34 or large_acc >= 0.8:
        return "srm"
    if category in _MMLU_REASONING or src.startswith(("theoremQA", "scibench")):
        return "lrm"
    return "llm"


# SciBench entered MMLU-Pro from another benchmark: a distinct origin held
# out of training to measure tier and routing on an unseen source. TheoremQA
# stays in training: it is the only licence-clean source of theorem-style
# math besides Arena-Hard.
def mmlu_heldout_src(src: str) -> bool:
    return src.startswith("scibench")


# Routing outcome pair for `triage eval routing`: a small and a large model
# that both answered every question (5-shot MMLU-Pro).
MMLU_WEAK_MODEL = "Meta-Llama-3_1-8B-Instruct_5shots"
MMLU_STRONG_MODEL = "gemini-1.5-pro-002_5shots"


def mmlu_outcomes(small_acc: float, per_model: dict) -> dict:
    """difficulty = share of the small group that fails; weak/strong correctness."""
    out = {"difficulty": round(1.0 - small_acc, 4)}
    for key, col in (("weak_correct", MMLU_WEAK_MODEL), ("strong_correct", MMLU_STRONG_MODEL)):
        v = per_model.get(col, "")
        out[key] = int(float(v)) if v not in ("", None) else None
    return out


def strategyqa_tier(steps: int) -> str:
    # README: most questions decompose into 3 short steps; lrm only for 4-5.
    return "lrm" if steps >= 4 else "srm"


MMLU_RULE = "mmlu_pro:outcome-tier(small>=.67 slm;small>=.34|large>=.8 srm;else lrm|llm)+category->domain"

_BBH_LRM = {
    "tracking_shuffled_objects_five_objects", "tracking_shuffled_objects_seven_objects",
    "logical_deduction_five_objects", "logical_deduction_seven_objects",
    "dyck_languages", "multistep_arithmetic_two", "temporal_sequences", "web_of_lies",
    "geometric_shapes", "boolean_expressions",
}


def bbh_tier(task: str) -> str:
    # README lists srm for everything not named lrm; we keep word_sorting at srm
    # too (the optional slm drop is a guess, not an observation).
    return "lrm" if task in _BBH_LRM else "srm"


ARENA = {"creative_writing": ("llm", "creative"), "coding": ("lrm", "code"), "math": ("lrm", "math")}


def arena_labels(subcategory: str) -> tuple[str | None, str | None]:
    return ARENA.get(subcategory, (None, None))


# Long legal texts ask for analysis of a document, not a one-line classification.
LEGAL_LONG_CHARS = 1500


def legal_tier(text: str) -> str:
    return "llm" if len(text) >= LEGAL_LONG_CHARS else "srm"


def licence_is_noncommercial(hint: str) -> bool:
    """NC licences and unknown ones both need --allow-noncommercial (README: 'unclear')."""
    h = hint.strip().upper()
    return "NC" in h.split("-") or h in {"", "UNKNOWN"}


QWEN_MATH_TIER = {"svamp": "srm", "mawps": "srm", "asdiv": "srm", "aqua": "srm",
                  "college_math": "srm", "olympiadbench": "lrm"}

# Presidio span types that make a sentence sensitive (README rule): contact
# details and financial/government identifiers; a name or city alone does not.
SENSITIVE_PLACEHOLDERS = {
    "credit_card_number", "iban", "ssn", "phone_number", "email", "address",
    "street_name", "secondary_address", "us_driver_license", "ip_address",
}


def template_sensitive(placeholders: set[str]) -> bool:
    return bool(placeholders & SENSITIVE_PLACEHOLDERS)
