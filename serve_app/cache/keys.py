"""Cache keys: the normalised conversation, the request fingerprint, the exact key.

Pure functions, no I/O. Three things decide whether a cached answer may be
served: the tenant, the fingerprint (every request field other than the
conversation that can change the answer) and the conversation itself (exactly,
through `exact_key`, or approximately, through an embedding of the normalised
text plus the hit guards).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

# Fields that never change the answer. Everything else, including fields this
# code has never heard of, goes into the fingerprint: a field we do not
# understand might change the answer, and a needless miss is cheaper than a
# wrong hit. `model` is replaced by the resolved target; the conversation
# itself is keyed separately (exact key and embedding).
IGNORED_FIELDS = frozenset({"stream", "stream_options", "user", "metadata", "model"})
CONVERSATION_FIELDS = frozenset({"messages", "prompt"})

# Typographic variants that NFKC leaves alone but people type interchangeably.
_TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u2032": "'",
                             "\u201c": '"', "\u201d": '"', "\u201f": '"', "\u2033": '"',
                             "\u2013": "-", "\u2014": "-", "\u2212": "-"})
# Contractions expanded so "don't" and "do not" normalise alike. Negations are
# expanded, never dropped: they flip the meaning. Ambiguous ones ('s as a
# possessive, 'd as had/would) are left alone except after question words.
_CONTRACTIONS = [
    (re.compile(r"\bcan't\b"), "can not"),
    (re.compile(r"\bcannot\b"), "can not"),
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bshan't\b"), "shall not"),
    (re.compile(r"\b(\w+)n't\b"), r"\1 not"),
    (re.compile(r"\b(what|that|it|there|here|who|where|how|when|why|which)'s\b"), r"\1 is"),
    (re.compile(r"\blet's\b"), "let us"),
    (re.compile(r"\b(\w+)'re\b"), r"\1 are"),
    (re.compile(r"\b(\w+)'ve\b"), r"\1 have"),
    (re.compile(r"\b(\w+)'ll\b"), r"\1 will"),
    (re.compile(r"\bi'm\b"), "i am"),
]
_SPACE = re.compile(r"\s+")
# Trailing punctuation that does not change a request: "what is 2+2??" asks
# what "what is 2+2" asks. Operators and digits are never stripped; "!" after a
# digit is a factorial and stays.
_TRAILING = re.compile(r"(?:[\s.?,;:\u2026]|(?<!\d)!)+$")
_LEADING = re.compile(r"^[\s.,;:]+")


def normalise_text(text: str) -> str:
    """One turn's text: NFKC, plain quotes, lowercase, expanded contractions,
    collapsed whitespace, no trailing punctuation noise."""
    text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY).lower()
    for pattern, repl in _CONTRACTIONS:
        text = pattern.sub(repl, text)
    text = _SPACE.sub(" ", text)
    text = _TRAILING.sub("", text)
    return _LEADING.sub("", text)


def normalise_conversation(messages_or_prompt: Any) -> str:
    """The whole conversation as one canonical text, one "role: text" line per turn.

    Every turn counts, the system prompt and earlier turns included: the same
    last question after a different system prompt can have another answer.
    A completions prompt (a string) is one "prompt:" turn, so it never
    collides with a chat whose single user turn has the same text.
    """
    if isinstance(messages_or_prompt, str):
        return "prompt: " + normalise_text(messages_or_prompt)
    if isinstance(messages_or_prompt, list) and len(messages_or_prompt) == 1 \
            and isinstance(messages_or_prompt[0], str):
        return "prompt: " + normalise_text(messages_or_prompt[0])
    return "\n".join(_turn(_as_dict(m)) for m in messages_or_prompt)


_ROLE_LINE = re.compile(r"^(system|developer|user|assistant|tool|function): ", re.M)


def cache_view(classified: str) -> str:
    """The conversation as the cache embeds it, from the text the classifier
    classifies (ChatRequest.prompt_text): a lone user turn arrives bare and
    becomes "user: <normalised text>", exactly normalise_conversation's line
    for it; a role-tagged conversation keeps its roles, each turn normalised.
    Why two texts: the fine-tuned encoder learned paraphrases on this form
    (lab/finetune/data.py) and labels on bare prompts; on bare prompts its
    nearest neighbours share a topic more than a meaning."""
    if not _ROLE_LINE.match(classified):
        return "user: " + normalise_text(classified)
    return "\n".join(f"{role}: {normalise_text(text)}" for role, text in _turns(classified))


def _turns(text: str) -> list[tuple[str, str]]:
    starts = list(_ROLE_LINE.finditer(text))
    return [(m.group(1), text[m.end():starts[i + 1].start() if i + 1 < len(starts) else len(text)])
            for i, m in enumerate(starts)]


def _as_dict(message: Any) -> Mapping:
    if isinstance(message, Mapping):
        return message
    return message.model_dump(exclude_none=True)  # a protocol.ChatMessage


def _turn(message: Mapping) -> str:
    role = str(message.get("role", "user")).lower()
    content = message.get("content")
    if content is None:
        parts = []
    elif isinstance(content, str):
        parts = [normalise_text(content)]
    else:
        parts = [_part(p) for p in content]
    # Tool calls and tool results change what the next answer must be, and an
    # image changes it as much as its caption would: they are part of the key.
    for extra in ("tool_calls", "function_call", "tool_call_id", "name"):
        if message.get(extra) is not None:
            parts.append(f"[{extra}:{_canonical(message[extra])}]")
    return f"{role}: " + " ".join(p for p in parts if p)


def _part(part: Any) -> str:
    if not isinstance(part, Mapping):
        return normalise_text(str(part))
    if part.get("type") == "text":
        return normalise_text(str(part.get("text", "")))
    # Images, audio, files: identified by a digest of the part, not its text.
    return f"[{part.get('type', 'part')}:{_digest(_canonical(part))[:16]}]"


def fingerprint(kind: str, request: Any, target: str) -> str:
    """sha256 hex of every request field that can change the answer.

    `kind` is "chat" or "completions"; `target` is the explicit model name or
    the routed tier. Unknown fields are included (see IGNORED_FIELDS); key
    order and None values do not matter; 1 and 1.0 are the same number.
    """
    # For a parsed request, only the fields the client sent: a dict of the
    # same wire body then gives the same fingerprint.
    body = request if isinstance(request, Mapping) else request.model_dump(exclude_none=True,
                                                                            exclude_unset=True)
    fields = {k: v for k, v in body.items()
              if k not in IGNORED_FIELDS and k not in CONVERSATION_FIELDS and v is not None}
    return _digest(_canonical({"kind": kind, "target": target, "fields": fields}))


def exact_key(tenant: str, fingerprint: str, normalised_text: str) -> str:
    """sha256 hex of (tenant, fingerprint, text); a JSON list keeps the parts apart."""
    return _digest(json.dumps([tenant, fingerprint, normalised_text], ensure_ascii=False))


def _canonical(value: Any) -> str:
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _plain(value: Any) -> Any:
    """JSON-ready copy where equal values serialise equally (1.0 -> 1)."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "model_dump"):
        return _plain(value.model_dump(exclude_none=True))
    return str(value)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
