"""Redaction mode: sensitive spans -> numbered placeholders before a cloud call.

Owns placeholder numbering (`Placeholders`: same value, same placeholder,
across every message of a request), `redact(text, findings)` (the span
replacement itself is presidio-anonymizer's, with a custom operator), and
`redact_request(body, analyze)` for OpenAI chat and text-completion bodies:
message text, text content parts, tool-call arguments and `prompt`.
What was redacted is reportable by entity type and count; values live only
in `mapping`, which is kept out of reprs so it cannot reach a log by accident.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from serve_app.privacy.findings import Finding, Findings
from serve_app.privacy.settings import RedactionSettings

# Between the pieces of a request when they are analysed as one text: a
# blank line keeps sentences of different messages from running together.
_JOIN = "\n\n"


class Placeholders:
    """Numbered placeholders, one per (entity type, value), in order of first use."""

    def __init__(self, style: str = RedactionSettings().placeholder, avoid: str = ""):
        self.style = style
        self._avoid = avoid  # text that must not already contain a placeholder we hand out
        self._by_value: dict[tuple[str, str], str] = {}
        self._next: Counter[str] = Counter()
        self.mapping: dict[str, str] = {}  # placeholder -> original value

    def __repr__(self) -> str:  # never show values
        return f"Placeholders({len(self.mapping)} values)"

    def get(self, entity: str, value: str) -> str:
        key = (entity, value)
        if key not in self._by_value:
            while True:
                self._next[entity] += 1
                placeholder = self.style.format(entity=entity, index=self._next[entity])
                if placeholder not in self._avoid:
                    break
            self._by_value[key] = placeholder
            self.mapping[placeholder] = value
        return self._by_value[key]

    def counts(self) -> dict[str, int]:
        """Entity type -> how many distinct values were replaced."""
        return dict(sorted(Counter(entity for entity, _ in self._by_value).items()))


@dataclass(frozen=True)
class Redaction:
    text: str
    mapping: dict[str, str] = field(repr=False)  # placeholder -> original value
    counts: dict[str, int] = field(default_factory=dict)  # entity type -> values replaced

    @property
    def kinds(self) -> tuple[str, ...]:
        """Entity types redacted (safe to log)."""
        return tuple(sorted(self.counts))


def redact(text: str, findings: Findings | Iterable[Finding], *, placeholders: Placeholders | None = None,
           settings: RedactionSettings | None = None) -> Redaction:
    """`text` with every finding (except `settings.keep` types) replaced by its placeholder."""
    settings = settings or RedactionSettings()
    table = placeholders or Placeholders(settings.placeholder, avoid=text)
    items = findings.items if isinstance(findings, Findings) else tuple(findings)
    chosen = sorted((f for f in items if f.entity_type not in settings.keep), key=lambda f: f.start)
    out = _anonymize(text, chosen, table) if chosen else text
    distinct = {(f.entity_type, text[f.start:f.end]) for f in chosen}
    counts = dict(sorted(Counter(entity for entity, _ in distinct).items()))
    mapping = {table.get(e, v): v for e, v in distinct}
    return Redaction(out, mapping, counts)


def _anonymize(text: str, chosen: list[Finding], table: Placeholders) -> str:
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

    for f in chosen:  # number in reading order; the anonymizer works from the end
        table.get(f.entity_type, text[f.start:f.end])
    operators = {entity: OperatorConfig("custom", {"lambda": lambda value, e=entity: table.get(e, value)})
                 for entity in {f.entity_type for f in chosen}}
    results = [RecognizerResult(f.entity_type, f.start, f.end, f.score) for f in chosen]
    return AnonymizerEngine().anonymize(text=text, analyzer_results=results, operators=operators).text


# -------------------------------------------------------------- requests


@dataclass(frozen=True)
class RedactedRequest:
    body: dict
    mapping: dict[str, str] = field(repr=False)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted(self.counts))


def redact_request(body: dict, analyze: Callable[[str], Findings],
                   settings: RedactionSettings | None = None) -> RedactedRequest:
    """A copy of an OpenAI chat or completions body with sensitive spans replaced.

    All text pieces are analysed as one text (a name in one message and a
    diagnosis in the next still pair up), then each piece is redacted with
    its own findings. Pass `functools.partial(detector.analyze, all_names=True)`
    as `analyze` to replace every person named, not only those near a cue.
    """
    settings = settings or RedactionSettings()
    body = copy.deepcopy(body)
    slots = list(_text_slots(body))
    texts = [get() for get, _ in slots]
    joined = _JOIN.join(texts)
    findings = analyze(joined).items if joined.strip() else ()
    table = Placeholders(settings.placeholder, avoid=joined)
    offset = 0
    for (_, put), text in zip(slots, texts):
        local = [Finding(f.entity_type, max(f.start, offset) - offset, min(f.end, offset + len(text)) - offset,
                         f.score, f.recognizer)
                 for f in findings if f.start < offset + len(text) and f.end > offset]
        if local:
            put(redact(text, local, placeholders=table, settings=settings).text)
        offset += len(text) + len(_JOIN)
    return RedactedRequest(body, dict(table.mapping), table.counts())


Slot = tuple[Callable[[], str], Callable[[str], None]]


def _text_slots(body: dict) -> Iterator[Slot]:
    """(get, put) pairs for every text the model will read, in order."""
    for message in body.get("messages") or ():
        content = message.get("content")
        if isinstance(content, str):
            yield _item(message, "content")
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") in ("text", "input_text") and isinstance(part.get("text"), str):
                    yield _item(part, "text")
        calls = [c.get("function") for c in message.get("tool_calls") or () if isinstance(c, dict)]
        calls.append(message.get("function_call"))
        for fn in calls:
            if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                yield from _argument_slots(fn)
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        yield _item(body, "prompt")
    elif isinstance(prompt, list):
        for i, p in enumerate(prompt):
            if isinstance(p, str):
                yield _item(prompt, i)


def _item(container: Any, key: Any) -> Slot:
    def put(value: str) -> None:
        container[key] = value
    return (lambda: container[key]), put


def _argument_slots(fn: dict) -> Iterator[Slot]:
    """String leaves of a tool call's JSON arguments (the raw string if it is not JSON)."""
    try:
        args = json.loads(fn["arguments"])
    except (json.JSONDecodeError, TypeError):
        yield _item(fn, "arguments")
        return
    leaves = list(_string_leaves(args))
    if not leaves:
        return
    root = {"v": args}
    for path in leaves:
        container = root["v"] if path else root
        for key in path[:-1]:
            container = container[key]
        last = path[-1] if path else "v"
        get, put_leaf = _item(container, last)

        def put(value: str, put_leaf=put_leaf) -> None:
            put_leaf(value)
            fn["arguments"] = json.dumps(root["v"], ensure_ascii=False)
        yield get, put


def _string_leaves(node: Any, path: tuple = ()) -> Iterator[tuple]:
    if isinstance(node, str):
        yield path
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _string_leaves(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _string_leaves(v, path + (i,))
