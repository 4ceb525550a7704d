"""Fake sensitive values for the privacy corpus, drawn from a seeded RNG.

Owns every value a template slot can hold: identities from
FakeNameGenerator.com_3000.csv (names, addresses, e-mails, phones,
birthdays, passwords), and generated ones (Luhn-valid cards in several
layouts and in words, mod-97-valid IBANs, SSNs, API keys, JWTs, licences,
passports, salaries, balances, diagnoses). Value pools that could leak
between splits (identities, diagnoses, medications) are halved: the bench
split draws from the other half, so it tests values never seen in training.
"""

from __future__ import annotations

import base64
import csv
import json
import random
import string
from dataclasses import dataclass
from pathlib import Path

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
_ORD = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
        "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
        "eighteenth", "nineteenth", "twentieth", "twenty-first", "twenty-second", "twenty-third",
        "twenty-fourth", "twenty-fifth", "twenty-sixth", "twenty-seventh", "twenty-eighth"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]

# Written for the corpus, not copied from the detector's lexicon: misses show real gaps.
CONDITIONS = [
    "HIV", "type 2 diabetes", "stage 3 pancreatic cancer", "breast cancer", "bipolar disorder", "schizophrenia",
    "major depressive disorder", "multiple sclerosis", "early-onset Alzheimer's", "Parkinson's disease",
    "epilepsy", "hepatitis C", "lung cancer", "chronic kidney disease", "an eating disorder", "PTSD",
    "ovarian cancer", "leukemia", "Crohn's disease", "a brain tumour", "heart failure", "COPD", "lupus",
    "an opioid addiction", "prostate cancer", "melanoma", "cystic fibrosis", "ALS", "severe anxiety",
    "rheumatoid arthritis", "stage IV colon cancer", "sickle cell disease", "tuberculosis", "syphilis",
    "alcohol use disorder", "autism", "glioblastoma", "non-Hodgkin lymphoma", "endometriosis", "a miscarriage",
]
MEDICATIONS = ["metformin", "sertraline", "lithium carbonate", "Truvada", "insulin glargine", "methadone",
               "olanzapine", "Adderall", "oxycodone", "levothyroxine", "Ozempic", "tamoxifen", "clozapine",
               "warfarin", "buprenorphine", "Xanax", "prednisone", "Humira", "quetiapine", "fluoxetine"]
SPECIAL = ["is gay", "came out as transgender", "was arrested for DUI last spring", "has a criminal record",
           "is undocumented", "converted to Islam", "is on parole", "is seeking asylum", "was convicted of fraud",
           "is bisexual"]
EMPLOYERS = ["Acme Corp", "Globex", "Initech", "Northwind Traders", "Contoso", "Umbrella Health", "Stark Industries"]
_KEY_SHAPES = [
    ("sk-proj-", string.ascii_letters + string.digits, 40), ("sk-ant-api03-", string.ascii_letters + string.digits + "-_", 60),
    ("AKIA", string.ascii_uppercase + string.digits, 16), ("ghp_", string.ascii_letters + string.digits, 36),
    ("xoxb-", string.digits, 12), ("AIza", string.ascii_letters + string.digits + "-_", 35),
    ("sk_live_", string.ascii_letters + string.digits, 24), ("hf_", string.ascii_letters, 34),
    ("glpat-", string.ascii_letters + string.digits, 20), ("github_pat_11", string.ascii_uppercase + string.digits, 30),
]
_IBAN_FORMATS = {"DE": "8n10n", "GB": "4a6n8n", "FR": "5n5n11c2n", "NL": "4a10n", "ES": "4n4n2n10n",
                 "IT": "1a5n5n12c", "CH": "5n12c", "BE": "3n7n2n", "AT": "5n11n", "PL": "8n16n"}


@dataclass(frozen=True)
class Identity:
    first: str
    last: str
    street: str
    city: str
    zipcode: str
    country: str
    email: str
    phone: str
    phone_cc: str
    birthday: str  # M/D/YYYY
    password: str
    occupation: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


def load_identities(path: Path) -> list[Identity]:
    with path.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    return [Identity(r["GivenName"], r["Surname"], r["StreetAddress"], r["City"].split("|")[-1].strip("[]"),
                     r["ZipCode"], r["Country"], r["EmailAddress"], r["TelephoneNumber"], r["TelephoneCountryCode"],
                     r["Birthday"], r["Password"], r["Occupation"]) for r in rows]


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def card_digits(rng: random.Random) -> str:
    prefix, length = rng.choice([("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("37", 15), ("6011", 16), ("35", 16)])
    return luhn_complete(prefix, length, rng)


def card_layout(digits: str, rng: random.Random) -> str:
    sep = rng.choice([" ", "-", "", ".", " - ", "  "])
    if len(digits) == 15:
        return sep.join((digits[:4], digits[4:10], digits[10:]))
    return sep.join(digits[i:i + 4] for i in range(0, len(digits), 4))


def digits_in_words(digits: str, rng: random.Random, mix: bool = False) -> str:
    out = []
    for i, d in enumerate(digits):
        word = d if mix and rng.random() < 0.4 else (rng.choice(["zero", "oh"]) if d == "0" else WORDS[int(d)])
        out.append(word)
        if i % 4 == 3 and i < len(digits) - 1 and rng.random() < 0.5:
            out[-1] += ","
    return " ".join(out)


def iban(rng: random.Random) -> str:
    country = rng.choice(sorted(_IBAN_FORMATS))
    bban = ""
    for part in _parse_format(_IBAN_FORMATS[country]):
        kind, n = part
        alphabet = {"n": string.digits, "a": string.ascii_uppercase, "c": string.ascii_uppercase + string.digits}[kind]
        bban += "".join(rng.choice(alphabet) for _ in range(n))
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    check = 98 - int(numeric) % 97
    compact = f"{country}{check:02d}{bban}"
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4)) if rng.random() < 0.6 else compact


def _parse_format(fmt: str) -> list[tuple[str, int]]:
    parts, num = [], ""
    for ch in fmt:
        if ch.isdigit():
            num += ch
        else:
            parts.append((ch, int(num)))
            num = ""
    return parts


def ssn(rng: random.Random) -> str:
    area = rng.choice([n for n in range(1, 900) if n != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def api_key(rng: random.Random) -> str:
    prefix, alphabet, n = rng.choice(_KEY_SHAPES)
    body = "".join(rng.choice(alphabet) for _ in range(n))
    if prefix == "xoxb-":
        body += "-" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(24))
    if prefix.startswith("sk-") and not any(c.isdigit() for c in body):
        body = body[:-1] + "7"
    return prefix + body


def jwt(rng: random.Random, who: str) -> str:
    def b64(obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    sig = "".join(rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(43))
    return f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64({'sub': who, 'iat': rng.randint(1_600_000_000, 1_800_000_000)})}.{sig}"


def ip(rng: random.Random) -> str:
    first = rng.choice([10, 172, 192, 34, 52, 81, 145, 203])
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def ipv6(rng: random.Random) -> str:
    return "2001:db8:" + ":".join(f"{rng.randint(0, 65535):x}" for _ in range(6))


def passport(rng: random.Random) -> str:
    shape = rng.choice(["9n", "1a8n", "2a7n", "C9"])
    if shape == "9n":
        return "".join(rng.choice(string.digits) for _ in range(9))
    if shape == "1a8n":
        return rng.choice(string.ascii_uppercase) + "".join(rng.choice(string.digits) for _ in range(8))
    if shape == "2a7n":
        return "".join(rng.choice(string.ascii_uppercase) for _ in range(2)) + "".join(rng.choice(string.digits) for _ in range(7))
    return "C" + "".join(rng.choice(string.digits + "FGHJKLMNPRTVWXYZ") for _ in range(8))


def licence(rng: random.Random) -> str:
    return rng.choice([
        lambda: rng.choice(string.ascii_uppercase) + "".join(rng.choice(string.digits) for _ in range(7)),
        lambda: f"{rng.choice(string.ascii_uppercase)}{rng.randint(100, 999)}-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
        lambda: "".join(rng.choice(string.digits) for _ in range(9)),
        lambda: "".join(rng.choice(string.ascii_uppercase) for _ in range(5)) + f"{rng.randint(100000, 999999)}"
                + "".join(rng.choice(string.ascii_uppercase) for _ in range(2)) + str(rng.randint(1, 9))
                + "".join(rng.choice(string.ascii_uppercase) for _ in range(2)),
    ])()


def mrn(rng: random.Random) -> str:
    return rng.choice(["", "MRN-", "H"]) + "".join(rng.choice(string.digits) for _ in range(rng.randint(6, 9)))


def dob_parts(ident: Identity) -> tuple[int, int, int]:
    m, d, y = (int(x) for x in ident.birthday.split("/"))
    return d, m, max(y, 1935)


def dob_numeric(ident: Identity, rng: random.Random) -> str:
    d, m, y = dob_parts(ident)
    return rng.choice([f"{m:02d}/{d:02d}/{y}", f"{d:02d}.{m:02d}.{y}", f"{y}-{m:02d}-{d:02d}", f"{d}/{m}/{y}"])


def dob_words(ident: Identity, rng: random.Random) -> str:
    d, m, y = dob_parts(ident)
    month = MONTHS[m - 1]
    return rng.choice([f"{d} {month} {y}", f"{month} {d}, {y}", f"{month} {d}th, {y}", f"the {d}th of {month} {y}",
                       f"{d} {month[:3]}. {y}"])


def year_words(y: int) -> str:
    hi, lo = divmod(y, 100)
    head = "nineteen" if hi == 19 else "two thousand"
    if hi == 20:
        return head if lo == 0 else f"two thousand and {_two_digit(lo)}"
    return f"{head} {_two_digit(lo)}" if lo >= 10 else f"{head} oh {WORDS[lo]}"


def _two_digit(n: int) -> str:
    if n < 10:
        return WORDS[n]
    if n < 20:
        return _TEENS[n - 10]
    tens, unit = divmod(n, 10)
    return _TENS[tens] + (f"-{WORDS[unit]}" if unit else "")


def dob_spelled(ident: Identity, rng: random.Random) -> str:
    d, m, y = dob_parts(ident)
    return f"the {_ORD[min(d, 28) - 1]} of {MONTHS[m - 1]}, {year_words(y)}"


def salary(rng: random.Random) -> str:
    n = rng.randrange(38, 420) * 1000
    return rng.choice([f"${n:,}", f"£{n:,}", f"€{n:,}", f"{n // 1000}k", f"${n // 1000}k", f"{n:,} dollars", f"USD {n:,}"])


def amount(rng: random.Random) -> str:
    return rng.choice([f"${rng.randint(100, 90000):,}.{rng.randint(0, 99):02d}", f"€{rng.randint(100, 90000):,}",
                       f"£{rng.randint(100, 9000):,}"])


def account_number(rng: random.Random) -> str:
    n = "".join(rng.choice(string.digits) for _ in range(rng.randint(8, 12)))
    return rng.choice([n, " ".join(n[i:i + 4] for i in range(0, len(n), 4))])


def phone(ident: Identity, rng: random.Random) -> str:
    return rng.choice([
        f"({rng.randint(201, 989)}) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}",
        f"{rng.randint(201, 989)}-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}",
        f"+{ident.phone_cc} {ident.phone.lstrip('0')}",
        f"+44 7{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
        f"0{rng.randint(20, 99)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
    ])


def password(ident: Identity, rng: random.Random) -> str:
    return rng.choice([ident.password, ident.password + "!", f"{rng.choice(['Summer', 'Blue', 'Tiger', 'Falcon'])}"
                       f"{rng.randint(10, 2025)}{rng.choice('!#$%&')}", "hunter2", "swordfish",
                       "".join(rng.choice(string.ascii_letters + string.digits + "!@#") for _ in range(12))])


def obfuscate_email(email: str, rng: random.Random) -> str:
    local, domain = email.lower().split("@")
    style = rng.choice(["dot_at", "brackets", "parens", "at_only", "caps"])
    if style == "dot_at":
        return f"{local.replace('.', ' dot ')} at {domain.replace('.', ' dot ')}"
    if style == "brackets":
        return f"{local} [at] {domain.replace('.', ' [dot] ')}"
    if style == "parens":
        return f"{local}(at){domain.replace('.', '(dot)')}"
    if style == "caps":
        return f"{local.upper()} AT {domain.upper().replace('.', ' DOT ')}"
    return f"{local} at {domain}"
