"""One small loader per source: raw files under the datasets root -> rows.

Paths and field names follow ../shared/datasets/README.md. Each loader is a
generator taking the datasets root, so tests point it at tiny fixture copies.
"""

from __future__ import annotations

import csv
import json
import random
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from . import rules
from .dataset import make_row
from .synth import load_code_synth, load_math_synth
from .synth_attacks import load_attack_synth
from .synth_private import load_private_synth


def _jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _csv(path: Path) -> list[dict]:
    # utf-8-sig: several upstream CSVs start with a BOM that would rename column 1.
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _mmlu_rows(root: Path, source: str, keep_src, variants: bool) -> Iterator[dict]:
    d = root / "mmlu_pro_derived"
    # Recompute the tier from the accuracies rather than trusting proposed_tier,
    # so the rule lives in code; build.py reports any disagreement.
    acc = {r["question_id"]: r for r in _csv(d / "mmlu_pro_tier_proposal.csv")}
    per_model = {r["question_id"]: r for r in _csv(d / "mmlu_pro_per_model_correct.csv")}
    for q in _jsonl(d / "mmlu_pro_test_questions.jsonl"):
        a = acc.get(str(q["question_id"]))
        if a is None or not keep_src(q["src"]):
            continue
        opts = "\n".join(f"{string.ascii_uppercase[i]}. {o}" for i, o in enumerate(q["options"]))
        tier = rules.mmlu_tier(float(a["small_acc"]), float(a["large_acc"]), q["category"], q["src"])
        outcome = rules.mmlu_outcomes(float(a["small_acc"]), per_model.get(str(q["question_id"]), {}))
        labels = dict(tier=tier, domain=rules.MMLU_DOMAIN[q["category"]], jailbreak=False, **outcome)
        qid = str(q["question_id"])
        yield make_row(source, qid, f"{q['question']}\n{opts}", qid, rules.MMLU_RULE, **labels)
        if variants:
            # Users rarely send ten lettered options: the bare question teaches
            # domain and difficulty from content, not from the exam format.
            # Same group as its original, so both land on the same split side.
            yield make_row(source, f"{qid}-q", q["question"], qid, rules.MMLU_RULE + ";question-only", **labels)


def load_mmlu_pro(root: Path) -> Iterator[dict]:
    return _mmlu_rows(root, "mmlu_pro", lambda src: not rules.mmlu_heldout_src(src), variants=True)


def load_mmlu_pro_heldout(root: Path) -> Iterator[dict]:
    """SciBench questions: a different origin inside MMLU-Pro, held out so
    tier and routing targets are measured on an unseen source."""
    return _mmlu_rows(root, "mmlu_pro_scibench", rules.mmlu_heldout_src, variants=False)


def load_exemplars(root: Path) -> Iterator[dict]:
    """The hand-written exemplars shipped in serve_app/defaults (ours, MIT):
    clear textbook cases per tier and domain, e.g. proof requests, which no
    public source here phrases the way users do. `root` is unused."""
    from serve_app.classifier.exemplars import load_default_exemplars

    ex = load_default_exemplars()
    for head, key in (("tier", "tiers"), ("domain", "domains")):
        for label, texts in ex[key].items():
            for i, text in enumerate(texts):
                yield make_row("exemplars", f"{head}-{label}-{i}", text, f"{head}-{label}-{i}",
                               f"exemplars:defaults/exemplars.yaml {key}.{label}->{head}={label}", **{head: label})
    for i, text in enumerate(ex["jailbreak"]):
        yield make_row("exemplars", f"jb-{i}", text, f"jb-{i}", "exemplars:defaults/exemplars.yaml jailbreak->true",
                       jailbreak=True)


def load_gsm8k(root: Path) -> Iterator[dict]:
    for i, q in enumerate(_jsonl(root / "gsm8k" / "train.jsonl")):
        yield make_row("gsm8k", str(i), q["question"], str(i), "gsm8k:srm/math;names-not-pii->sensitive=false",
                       tier="srm", domain="math", sensitive=False, jailbreak=False)


def load_nq_open(root: Path) -> Iterator[dict]:
    for fname in ("NQ-open.dev.jsonl", "NQ-open.efficientqa.dev.1.1.jsonl"):
        for i, q in enumerate(_jsonl(root / "nq_open" / fname)):
            rid = f"{fname.split('.')[1]}-{i}"
            yield make_row("nq_open", rid, q["question"], rid, "nq_open:slm/general;benign->s=false,j=false",
                           tier="slm", domain="general", sensitive=False, jailbreak=False)


def load_bbh(root: Path) -> Iterator[dict]:
    for path in sorted((root / "bbh").glob("*.json")):
        task = path.stem
        tier = rules.bbh_tier(task)
        for i, ex in enumerate(json.loads(path.read_text(encoding="utf-8"))["examples"]):
            # Group by task: BBH examples of one task share a template, so a
            # per-example split would leak the template into validation.
            yield make_row("bbh", f"{task}-{i}", ex["input"], task, f"bbh:task->{tier}+reasoning",
                           tier=tier, domain="reasoning", jailbreak=False)


def load_arena_hard(root: Path) -> Iterator[dict]:
    for q in _jsonl(root / "arena_hard" / "arena_hard_v2.0_question.jsonl"):
        tier, domain = rules.arena_labels(q.get("subcategory", ""))
        yield make_row("arena_hard", q["uid"], q["prompt"], q["uid"],
                       f"arena_hard:subcategory({q.get('subcategory')})->tier,domain",
                       tier=tier, domain=domain, jailbreak=False)


def load_pubmedqa(root: Path) -> Iterator[dict]:
    data = json.loads((root / "pubmedqa" / "ori_pqal.json").read_text(encoding="utf-8"))
    for pmid, item in data.items():
        # Question alone -> srm (README); the with-context llm variant is left
        # for later so one PMID does not appear twice with different tiers.
        yield make_row("pubmedqa", pmid, item["QUESTION"], pmid, "pubmedqa:question-only->srm/medical;no-id->s=false",
                       tier="srm", domain="medical", sensitive=False, jailbreak=False)


def _legal_prompt(row: dict) -> str:
    body = row.get("text") or "\n".join(
        f"{k}: {v}" for k, v in row.items() if k not in {"index", "answer"} and v)
    return f"{row['question']}\n\n{body}" if row.get("question") and row.get("text") else body


def load_legalbench(root: Path) -> Iterator[dict]:
    for i, r in enumerate(_jsonl(root / "legalbench" / "legalbench_tasks_train_tsv_combined.jsonl")):
        prompt = _legal_prompt(r["row"])
        tier = rules.legal_tier(prompt)
        yield make_row("legalbench", f"{r['task']}-{i}", prompt, f"{r['task']}-{r['row'].get('index', i)}",
                       f"legalbench:legal;len>={rules.LEGAL_LONG_CHARS}->llm else srm;licence={r['license_hint']}",
                       tier=tier, domain="legal", jailbreak=False,
                       noncommercial=rules.licence_is_noncommercial(r["license_hint"]))


def load_qwen_math(root: Path) -> Iterator[dict]:
    d = root / "qwen25math_evalsets"
    # asdiv is CC BY-NC; mawps and olympiadbench licences are unverified (README).
    flagged = {"asdiv", "mawps", "olympiadbench"}
    for name, tier in rules.QWEN_MATH_TIER.items():
        path = d / f"{name}_test.jsonl"
        if not path.exists():
            continue
        for i, q in enumerate(_jsonl(path)):
            prompt = (f"{q['Body']} {q['Question']}" if name == "svamp" else
                      f"{q['body']} {q['question']}" if name == "asdiv" else
                      q["input"] if name == "mawps" else q["question"])
            if name == "aqua":
                prompt += "\n" + "\n".join(q.get("options", []))
            yield make_row("qwen_math", f"{name}-{i}", prompt, f"{name}-{i}", f"qwen_math:{name}->{tier}/math",
                           tier=tier, domain="math", jailbreak=False, noncommercial=name in flagged)


def load_strategyqa(root: Path) -> Iterator[dict]:
    for fname in ("train.json", "dev.json"):
        for q in json.loads((root / "strategyqa" / fname).read_text(encoding="utf-8")):
            steps = len(q.get("decomposition") or [])
            tier = rules.strategyqa_tier(steps)
            yield make_row("strategyqa", q["qid"], q["question"], q["qid"],
                           f"strategyqa:decomposition={steps}->{tier}/reasoning",
                           tier=tier, domain="reasoning", sensitive=False, jailbreak=False)


def load_mbpp(root: Path) -> Iterator[dict]:
    """Held out only (CC BY-NC): evaluating on it ships none of its text."""
    import zipfile

    with zipfile.ZipFile(root / "mbpp_wizard" / "mbpp.test.zip") as zf:
        lines = zf.read("mbpp.test.jsonl").decode("utf-8").splitlines()
    for line in filter(str.strip, lines):
        q = json.loads(line)
        tid = str(q["task_id"])
        yield make_row("mbpp", tid, q["text"], tid, "mbpp:srm/code (CC BY-NC: held-out evaluation only)",
                       tier="srm", domain="code", sensitive=False, jailbreak=False, noncommercial=True)


def load_jailbreakbench(root: Path) -> Iterator[dict]:
    for path in sorted((root / "jailbreakbench_artifacts").glob("*__*__*.json")):
        method = path.name.split("__")[0]
        for j in json.loads(path.read_text(encoding="utf-8"))["jailbreaks"]:
            if not j.get("prompt"):
                continue
            # Group by goal: the same 100 goals recur in every method (README).
            yield make_row("jailbreakbench", f"{path.stem}-{j['index']}", j["prompt"], f"goal-{j['index']}",
                           f"jailbreakbench:{method}:prompt->jailbreak=true", jailbreak=True)


def load_promptshield(root: Path) -> Iterator[dict]:
    for i, r in enumerate(_jsonl(root / "promptshield_neuralalchemy" / "train.jsonl")):
        yield make_row("promptshield", str(i), r["prompt"], str(i),
                       f"promptshield:label->jailbreak;attack_type={r.get('attack_type')}",
                       jailbreak=int(r["label"]) == 1)


def load_verazuo(root: Path) -> Iterator[dict]:
    d = root / "verazuo_jailbreak_2023_05_07"
    for i, r in enumerate(_csv(d / "jailbreak_prompts_2023_05_07.csv")):
        yield make_row("verazuo_jailbreak", f"p{i}", r["prompt"], f"p{i}", "verazuo:in-the-wild-prompt->jailbreak=true",
                       jailbreak=True)
    # Policy: the head detects the jailbreak *technique*; a bare harmful
    # question has no wrapper, so it is a negative here (README asks to decide).
    for r in _csv(d / "forbidden_question_set.csv"):
        yield make_row("verazuo_jailbreak", f"q{r['q_id']}", r["question"], f"q{r['q_id']}",
                       "verazuo:forbidden-question-no-wrapper->jailbreak=false", jailbreak=False)


# ------------------------------------------------------------ sensitive generator


def fake_card(rng: random.Random) -> str:
    """16-digit Visa/Mastercard-range number with a valid Luhn check digit."""
    body = [int(rng.choice("45"))] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(body)):  # check digit will sit to the right
        total += (d * 2 - 9 if d > 4 else d * 2) if i % 2 == 0 else d
    digits = "".join(map(str, body)) + str((10 - total % 10) % 10)
    return " ".join(digits[i:i + 4] for i in range(0, 16, 4)) if rng.random() < 0.5 else digits


_IBAN_BBAN = {"DE": 18, "GB": 18, "FR": 23, "NL": 14, "ES": 20}


def fake_iban(rng: random.Random) -> str:
    cc = rng.choice(sorted(_IBAN_BBAN))
    bban = ("".join(rng.choice(string.ascii_uppercase) for _ in range(4)) if cc in {"GB", "NL"} else "")
    bban += "".join(rng.choice(string.digits) for _ in range(_IBAN_BBAN[cc] - len(bban)))
    numeric = "".join(str(int(ch, 36)) for ch in bban + cc + "00")
    return f"{cc}{98 - int(numeric) % 97:02d}{bban}"


def fake_ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}"


def fake_phone(rng: random.Random) -> str:
    return f"({rng.randrange(2, 10)}{rng.randrange(10)}{rng.randrange(10)}) {rng.randrange(200, 1000)}-{rng.randrange(10000):04d}"


def fake_key(rng: random.Random) -> str:
    return "sk-proj-" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(32)) + "7"


def _fill_values(person: dict, rng: random.Random) -> dict[str, str]:
    first, last = person["GivenName"], person["Surname"]
    street = person["StreetAddress"]
    v = {"first_name": first, "last_name": last, "name": f"{first} {last}", "person": f"{first} {last}",
         "address": f"{street}, {person['City']}, {person['State']} {person['ZipCode']}",
         "street_name": re.sub(r"^\d+\s*", "", street) or street, "building_number": str(rng.randrange(1, 999)),
         "secondary_address": f"Apt. {rng.randrange(1, 400)}", "city": person["City"],
         "country": person["CountryFull"], "email": person["EmailAddress"], "phone_number": fake_phone(rng),
         "credit_card_number": fake_card(rng), "iban": fake_iban(rng), "ssn": fake_ssn(rng),
         "ip_address": ".".join(str(rng.randrange(1, 255)) for _ in range(4)), "age": person["Age"],
         "us_driver_license": f"{rng.choice(string.ascii_uppercase)}{rng.randrange(10**6, 10**7)}",
         "organization": person["Company"], "job": person["Occupation"], "url": f"https://www.{person['Domain']}",
         "date_of_birth": person["Birthday"], "zipcode": person["ZipCode"], "postcode": person["ZipCode"],
         "state_abbr": person["State"], "year": str(rng.randrange(1960, 2024)), "password": person["Password"],
         "username": person["Username"], "mrn": f"MRN-{rng.randrange(10**6, 10**7)}", "key": fake_key(rng),
         "cvv": f"{rng.randrange(100, 1000)}", "exp": f"{rng.randrange(1, 13):02d}/{rng.randrange(26, 32)}",
         "prefix": rng.choice(["Mr.", "Ms.", "Dr.", "Mrs."]), "nation": rng.choice(_NATIONS),
         "nationality": rng.choice(_NATIONS), "day_of_week": rng.choice(_DAYS),
         "date_time": f"{rng.choice(_DAYS)} {rng.randrange(1, 29)}/{rng.randrange(1, 13)} at {rng.randrange(7, 20)}:00"}
    return v


_NATIONS = ["French", "Brazilian", "Kenyan", "Japanese", "Polish", "Mexican", "Indian", "Irish"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _value(vals: dict[str, str], key: str) -> str:
    # Presidio variants such as first_name_female or nation_plural fall back to
    # their stem; we do not model gender or plural forms.
    while key not in vals and "_" in key:
        key = key.rsplit("_", 1)[0]
    return vals.get(key, key.replace("_", " "))


_PLACEHOLDER = re.compile(r"{{\s*(\w+)\s*}}")

# Our own templates for what Presidio lacks (README: no PHI, few credentials),
# plus hard negatives: same topics, no identifier. (text, sensitive, domain, tier)
OWN_TEMPLATES = [
    ("Patient {{name}}, DOB {{date_of_birth}}, {{mrn}}, presented with chest pain. Draft the discharge note.", True, "medical", "llm"),
    ("Summarise the chart for {{name}} ({{mrn}}), phone {{phone_number}}: type 2 diabetes, on metformin.", True, "medical", "llm"),
    ("My card is {{credit_card_number}}, expiry {{exp}}, CVV {{cvv}}. Why was the payment declined?", True, "financial", "slm"),
    ("Please wire 500 EUR to {{iban}} in the name of {{name}}.", True, "financial", "slm"),
    ("Log in as {{username}} with password {{password}} and export my invoices.", True, "general", "slm"),
    ("Here is my API key {{key}}, why does the client return 401?", True, "code", "srm"),
    ("My SSN is {{ssn}} and I live at {{address}}. Fill in this tax form for me.", True, "financial", "srm"),
    ("What are the usual first-line treatments for type 2 diabetes?", False, "medical", "slm"),
    ("What is the difference between a Roth IRA and a traditional IRA?", False, "financial", "slm"),
    ("How long should a card payment dispute take to resolve with a bank?", False, "financial", "slm"),
    ("{{first_name}} buys 3 notebooks at $4 each and pays with a $20 bill. How much change does {{first_name}} get?", False, "math", "srm"),
    ("{{first_name}} and {{first_name}} share 24 stickers equally. How many does each get?", False, "math", "srm"),
]


def _generate(templates, people, rng, per_template, rule_of) -> Iterator[dict]:
    for t_id, tpl in templates:
        for k in range(per_template):
            vals = _fill_values(rng.choice(people), rng)
            text = _PLACEHOLDER.sub(lambda m: _value(vals, m.group(1)), tpl)
            yield rule_of(t_id, tpl, k, text)


def load_sensitive_synth(root: Path, per_template: int = 20, seed: int = 13) -> Iterator[dict]:
    d = root / "presidio_synth"
    people = _csv(d / "FakeNameGenerator.com_3000.csv")
    rng = random.Random(seed)  # fixed seed: the same build twice gives the same rows
    lines = [ln.strip() for ln in (d / "templates.txt").read_text(encoding="utf-8").splitlines() if ln.strip()]

    def presidio_row(t_id, tpl, k, text):
        sens = rules.template_sensitive(set(_PLACEHOLDER.findall(tpl)))
        # group = template: every fill of one template lands on the same side of the split.
        return make_row("sensitive_synth", f"p{t_id}-{k}", text, f"presidio-tpl{t_id}",
                        f"presidio_tpl:placeholders->sensitive={str(sens).lower()}", sensitive=sens)

    def own_row(t_id, tpl, k, text):
        _, sens, domain, tier = OWN_TEMPLATES[t_id]
        return make_row("sensitive_synth", f"o{t_id}-{k}", text, f"own-tpl{t_id}",
                        f"own_tpl:{'identifier' if sens else 'hard-negative'}->sensitive={str(sens).lower()}",
                        sensitive=sens, domain=domain, tier=tier, jailbreak=False)

    yield from _generate(list(enumerate(lines)), people, rng, per_template, presidio_row)
    yield from _generate([(i, t[0]) for i, t in enumerate(OWN_TEMPLATES)], people, rng, per_template * 3, own_row)


@dataclass(frozen=True)
class Source:
    name: str
    load: Callable[[Path], Iterator[dict]]
    heldout: bool = False  # never in train/val: targets are measured on these


# Order matters: dedup keeps the first copy, and held-out sources come last so
# a held-out prompt that also appears in a training source is dropped, not leaked.
SOURCES = (
    Source("mmlu_pro", load_mmlu_pro), Source("gsm8k", load_gsm8k), Source("qwen_math", load_qwen_math),
    Source("nq_open", load_nq_open), Source("bbh", load_bbh), Source("arena_hard", load_arena_hard),
    Source("legalbench", load_legalbench), Source("promptshield", load_promptshield),
    Source("sensitive_synth", load_sensitive_synth), Source("code_synth", load_code_synth),
    Source("math_synth", load_math_synth),
    # Generated attack families (suffix, encoding, indirect, many-shot) with
    # matched benign look-alikes, and personal data without any
    # validator-shaped identifier; both split by template like every source.
    Source("attack_synth", load_attack_synth), Source("private_synth", load_private_synth),
    Source("exemplars", load_exemplars),
    # In-the-wild (DAN-family) prompts train the jailbreak head; JailbreakBench's
    # PAIR / random-search / AIM attacks stay out to measure unseen families.
    Source("verazuo_jailbreak", load_verazuo),
    Source("pubmedqa", load_pubmedqa, heldout=True), Source("mmlu_pro_scibench", load_mmlu_pro_heldout, heldout=True), Source("strategyqa", load_strategyqa, heldout=True),
    Source("mbpp", load_mbpp, heldout=True), Source("jailbreakbench", load_jailbreakbench, heldout=True),
)
# Whole sources not loaded in this version, with the reason (for the report).
NOT_LOADED = {
    "alpaca_seed": "CC BY-NC 4.0 (loader not written yet)",
    "alpaca_eval_derived": "HF card CC BY-NC; its win rates vs GPT-4-turbo are near 0 for most models (too sparse to label tiers)",
    "tensor_trust": "no licence (not loaded)",
    "gptfuzz": "templates overlap verazuo; loader not written yet", "cache_pairs": "not classifier data",
}
