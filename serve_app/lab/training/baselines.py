"""Two baselines that `triage eval classifier` scores beside the model.

- majority: the most common label of the evaluated file, for every row;
- heuristic: keyword and length rules in the style of LiteLLM's complexity
  tiers (reasoning words -> lrm, code words -> srm, long -> llm, short
  lookups -> slm), keyword domains, the deterministic validators for
  sensitive data, and jailbreak phrases.
A model that does not beat both has learned nothing worth its latency.
"""

from __future__ import annotations

import re
from collections import Counter

from serve_app.privacy.validators import detect_sensitive

_REASONING = re.compile(r"\b(prove|proof|derive|step[- ]by[- ]step|theorem|optimi[sz]e|algorithm|complexity|"
                        r"integral|differential|rigorous|analy[sz]e in depth)\b", re.I)
_CODE = re.compile(r"\b(python|function|code|script|sql|javascript|bug|compile|class|regex|api)\b|```|def ", re.I)
_DOMAIN_WORDS = {
    "code": _CODE,
    "math": re.compile(r"\b(solve|equation|integral|calculate|sum|probability|how many|percent|\d+\s*[-+*/^]\s*\d+)", re.I),
    "legal": re.compile(r"\b(law|legal|court|contract|statute|plaintiff|defendant|clause|liability)\b", re.I),
    "medical": re.compile(r"\b(patient|disease|symptom|treatment|clinical|diagnos\w*|drug|therapy|medical)\b", re.I),
    "financial": re.compile(r"\b(stock|market|price|interest|tax|revenue|profit|economy|investment|bank)\b", re.I),
    "science": re.compile(r"\b(physics|chemistry|biology|molecule|atom|cell|energy|velocity|reaction)\b", re.I),
    "engineering": re.compile(r"\b(circuit|voltage|beam|torque|design|engineer\w*|load|thermodynamic)\b", re.I),
    "creative": re.compile(r"\b(poem|story|write a song|lyrics|fiction|novel|creative)\b", re.I),
    "humanities": re.compile(r"\b(history|philosophy|psychology|war|century|empire|ethic\w*)\b", re.I),
    "reasoning": re.compile(r"\b(if .* then|true or false|deduce|logic|puzzle|which of the following)\b", re.I),
}
_JAILBREAK = re.compile(r"\b(ignore (all |the )?(previous|prior|above) instructions|DAN|do anything now|jailbreak|"
                        r"developer mode|no restrictions|unfiltered|pretend (to be|you are)|roleplay as|"
                        r"system prompt)\b", re.I)


def heuristic_tier(prompt: str) -> str:
    if _REASONING.search(prompt):
        return "lrm"
    if len(prompt) > 2000:
        return "llm"
    if _CODE.search(prompt):
        return "srm"
    return "slm" if len(prompt) < 120 else "srm"


def heuristic_domain(prompt: str) -> str:
    for domain, pattern in _DOMAIN_WORDS.items():
        if pattern.search(prompt):
            return domain
    return "general"


def heuristic(prompt: str) -> dict:
    return {
        "tier": heuristic_tier(prompt),
        "domain": heuristic_domain(prompt),
        "sensitive": 1.0 if detect_sensitive(prompt) else 0.0,
        "jailbreak": 1.0 if _JAILBREAK.search(prompt) else 0.0,
    }


def majority(rows: list[dict], head: str):
    counts = Counter(r[head] for r in rows if r.get(head) is not None)
    return counts.most_common(1)[0][0] if counts else None
