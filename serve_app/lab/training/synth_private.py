"""Personal and customer data with no validator-shaped identifier: `private_synth`.

The sensitive rows elsewhere (sensitive_synth, Presidio templates) nearly
always carry a card number, IBAN, SSN, key, email or phone, so the head learned
"identifier => sensitive" and misses the common case: a named person's
diagnosis, salary, debt, home address, HR file or immigration status, or a
pasted CRM/CSV row, none of which the regex validators can see. These rows
teach exactly that case. Hard negatives keep the topics (medicine, money, HR,
customers tables) without a real individual's data: generic questions,
placeholders such as [Customer name], aggregates, public figures, fiction and
code over a table with no rows, so the head learns "about a person", not
"mentions a diagnosis".

Names and addresses come from the FakeNameGenerator people file; every row is
checked against serve_app.privacy.validators and redrawn on a hit, so the
source stays free of identifiers by construction. Groups are per template.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from pathlib import Path

from serve_app.privacy.validators import detect_sensitive

from .dataset import make_row

SOURCE = "private_synth"
POS_RULE = "private_synth:personal-no-identifier->sensitive=true"
NEG_RULE = "private_synth:hard-negative->sensitive=false"

# (template, tier, domain). Placeholders are filled by _values(); positives all
# tie private facts to a named (or addressed) individual.
POSITIVE = [
    ("Can you summarise this for the family? {name} ({age}) from {city} was diagnosed with {diagnosis} last month "
     "and started {med}.", "srm", "medical"),
    ("Draft a note to {company} explaining that {name} is being treated for {diagnosis} and will be off work until "
     "{date}.", "srm", "medical"),
    ("My neighbour {name} on {street} just told me {test}. How can I support them?", "srm", "medical"),
    ("{name}, {age}, {job}: {test}. Please translate this note into Spanish for the specialist.", "slm", "medical"),
    ("Patient {last}, {first}: pregnant, {weeks} weeks, history of {diagnosis}. Write the referral letter to the "
     "obstetric clinic in {city}.", "srm", "medical"),
    ("Therapy note for {name}: reports panic attacks since losing the job at {company}; currently on {med}. "
     "Rewrite this in a more clinical tone.", "srm", "medical"),
    ("Is {med} a safe dose for {first} {last}? They are {age} and have {diagnosis}.", "llm", "medical"),
    ("{name} lives at {street}, {city}, {state} {zip}. Write them a letter about the {complaint}.", "srm",
     "general"),
    ("Format this as a {label} label: {name}, {street}, {zip} {city}, {country}.", "slm", "general"),
    ("Add {name}'s new home address ({street}, {city}) to the {guests} list and sort the list by surname.",
     "slm", "general"),
    ("{name} earns {salary} a year at {company} and still owes {amount} on a car loan. Can they afford a "
     "{amount2} mortgage?", "llm", "financial"),
    ("Write a polite reminder to {name} at {street}, {city} that their account has been overdue by {small} since "
     "{date}.", "srm", "financial"),
    ("Our client {name} ({job}, {age}) has {amount2} in savings and {amount} of credit card debt. Suggest a "
     "repayment plan.", "llm", "financial"),
    ("Loan application notes: applicant {name}, {street}, {city}; annual income {salary}; existing debt {amount}; "
     "declined twice before. Summarise for the credit committee.", "srm", "financial"),
    ("Translate to German: 'Dear {first} {last}, your overdraft of {amount} must be repaid by {date}.'", "slm",
     "financial"),
    ("Customer: {name} | {street}, {city} | plan: {plan} | balance overdue {small}. Draft the collections email.",
     "srm", "financial"),
    ("Fix the broken quoting in this CSV:\nname,address,plan,balance\n{csv_rows}", "srm", "code"),
    ("Convert these customer records to a markdown table:\n{json_rows}", "srm", "code"),
    ("CRM note {date}: {name} called about cancelling the {plan} plan; lives at {street}, {city}; disputes a {small} "
     "late fee. Summarise in one line.", "slm", "general"),
    ("Merge these two records of the same customer: '{name}, {street}, {city}' and '{initial}. {last}, {street}, "
     "{plan} member since {year}'.", "slm", "general"),
    ("Performance review for {name} ({job}): missed targets three quarters in a row and {hr}. Make it sound more "
     "constructive.", "srm", "general"),
    ("HR file: {name} has been on sick leave since {date} because of {diagnosis}. Draft a return-to-work letter.",
     "srm", "general"),
    ("Write the disciplinary letter for employee {name}, {job} at {company}, who {hr}.", "srm", "legal"),
    ("Salary review: {name} is on {salary} and {name2} on {salary2}. Write a justification for the pay gap.",
     "srm", "general"),
    ("Tenant {name} at {street}, {city} is {months} months behind on rent ({small}). Draft the eviction notice.",
     "srm", "legal"),
    ("Insurance claim: {name}, {age}, claims {amount} for water damage at {street}, {city}; a prior claim was denied "
     "in {year}. Does this look fraudulent?", "llm", "financial"),
    ("{name} was born {birthday} in {city}. How old will they be at the {future} reunion?", "slm", "general"),
    ("Birthday list: {name}, {birthday}; {name2}, {birthday2}. Sort them by month.", "slm", "general"),
    ("Background check for {name} ({street}, {city}): {offence}. Should we still hire them as a {job}?", "llm",
     "legal"),
    ("My coworker {name} from {city} has {immig}. Am I allowed to tell our manager?", "srm", "legal"),
    ("Write a letter supporting {name}'s case: {immig}, living at {street}, {city} since {year}, works as a {job}.",
     "srm", "legal"),
    ("Student report for {name}: {grades}. Write a short note to the parents.", "srm", "general"),
    ("Here are {first} {last}'s grades this term: {grades}. Translate this into French for the exchange school.",
     "slm", "general"),
    ("Reference letter for {name}, formerly {job} at {company}; the HR file says {first} {hr}. Be honest but kind.",
     "srm", "general"),
    ("Summarise: {name} of {city} is divorcing; custody of two children is disputed and they owe {amount} in child "
     "support.", "srm", "legal"),
    ("Please proofread: 'Dear Dr. {last}, my mother {name2} ({age2}) was prescribed {med} for {diagnosis} and I am "
     "worried about side effects.'", "slm", "medical"),
]

NEGATIVE = [
    ("What are the first-line treatments for {diagnosis} in {group}?", "slm", "medical"),
    ("What is a typical starting dose of {med_generic} for {group}?", "srm", "medical"),
    ("Write a {tone} template letter to a customer about {letter}. Use placeholders like [Customer name] and [Amount].",
     "srm", "financial"),
    ("Make this CRM mail-merge line read better: Customer: [Customer name] | [Street address], [City] | plan: {plan} "
     "| {field}: [{field}].", "slm", "general"),
    ("Write a SQL query that finds rows in the customers table (name, address, plan, balance) where plan is "
     "'{plan}' and the balance is overdue by more than {months}0 days.", "srm", "code"),
    ("Fix this pandas code: df = pd.read_csv('customers.csv'); df.groupby('{col}')['{metric}'].sum() raises a "
     "KeyError.", "srm", "code"),
    ("In {city}, {pct}% of our {count} customers on the {plan} plan are overdue. Is that above the industry "
     "average?", "srm", "financial"),
    ("{fiction} Write a short {genre} story set there.", "srm", "creative"),
    ("What did {public} study, and {followup}?", "slm", "humanities"),
    ("How should a {role} write a performance improvement plan for an employee who {issue}?", "srm",
     "general"),
    ("What rights does a tenant in {country} have when they are {months} months behind on rent?", "srm", "legal"),
    ("How does mortgage affordability change when a salary is {salary} and existing debt is {amount}?", "srm",
     "financial"),
    ("How do {who} usually detect fraudulent {claim} claims?", "srm", "financial"),
    ("Write a GDPR-compliant privacy notice for a small {business} in {country} that stores {stored}.", "srm", "legal"),
    ("Design a JSON schema for customer records with name, address, {field} and {metric} fields. No sample rows.",
     "srm", "code"),
    ("Is it legal for an employer in {country} to ask about {topic} during a job interview?", "srm", "legal"),
    ("A {job} in {country} earns on average {salary}. How does that compare with the national median?", "srm",
     "financial"),
    ("{first} buys {months} notebooks at $4 each and pays with a $50 bill. How much change does {first} get?", "slm",
     "math"),
]

# Group name -> sensitive label, so a test (and the report) can check that
# every group holds one template and one label.
TEMPLATE_GROUPS = {**{f"private-tpl{i}": True for i in range(len(POSITIVE))},
                   **{f"private-neg{i}": False for i in range(len(NEGATIVE))}}

_DIAGNOSES = ("type 2 diabetes", "major depressive disorder", "stage II breast cancer", "HIV", "bipolar disorder",
              "early-onset Alzheimer's", "chronic kidney disease", "epilepsy", "an eating disorder",
              "generalised anxiety disorder", "hepatitis C", "multiple sclerosis", "alcohol use disorder")
_MEDS = ("sertraline 50 mg", "lithium 300 mg", "metformin 1000 mg", "methadone 40 mg", "quetiapine 100 mg",
         "insulin glargine", "tamoxifen 20 mg", "antiretroviral therapy", "levetiracetam 500 mg")
_TESTS = ("their biopsy came back positive", "their pregnancy test was positive", "their HIV test was positive",
          "their HbA1c came back at 9.1%", "the MRI showed a lesion on the brain", "their PSA level was 11.2",
          "they tested positive for opioids")
_HR = ("was placed on a performance improvement plan", "received a final written warning for absenteeism",
       "was reported for shouting at a colleague", "failed the probation review", "was caught using the company car "
       "privately")
_OFFENCES = ("a 2019 conviction for shoplifting", "a drink-driving conviction from 2017", "an assault charge that "
             "was later dropped", "two years' probation for benefit fraud", "a restraining order from 2021")
_IMMIG = ("an expired work visa", "a pending asylum claim", "no legal residence status", "a green card application "
          "under review", "temporary protected status that ends this year")
_SUBJECTS = ("Maths", "Chemistry", "English", "History", "Physics", "Biology", "French")
_PLANS = ("Gold", "Silver", "Basic", "Premium", "Family", "Business")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
# Wording variety, mostly for the negatives, which have no person to vary them.
_VARIETY = {"complaint": ("noise complaint", "parking dispute", "overgrown hedge", "unpaid service charge"),
            "label": ("shipping", "return", "envelope", "courier"),
            "guests": ("Christmas card", "wedding invitation", "newsletter", "reunion"),
            "group": ("adults", "older adults", "teenagers", "pregnant women", "people with kidney disease"),
            "letter": ("an overdue balance", "a price increase", "a plan upgrade", "a missed payment",
                       "a closed account"),
            "field": ("balance overdue", "renewal date", "loyalty points", "last order", "account manager"),
            "col": ("plan", "city", "segment", "region", "signup_year"),
            "metric": ("balance", "revenue", "overdue_amount", "orders", "credit_limit"),
            "genre": ("mystery", "funny", "bedtime", "ghost", "science-fiction"),
            "followup": ("why is that work still cited", "who were their mentors", "what did critics say at the time"),
            "issue": ("misses deadlines", "is often late", "ignores code review comments", "struggles with customers",
                      "keeps missing sales targets", "does not document their work"),
            "tone": ("polite", "firm", "friendly", "short", "formal"),
            "role": ("manager", "team lead", "HR partner", "new supervisor"),
            "who": ("insurers", "claims adjusters", "small insurers", "auditors"),
            "claim": ("water damage", "car theft", "travel", "storm damage", "jewellery loss", "whiplash"),
            "business": ("gym", "dental practice", "bakery with a loyalty card", "language school", "coworking space"),
            "stored": ("members' names and home addresses", "clients' health questionnaires", "customers' purchase "
                       "history", "students' grades"),
            "topic": ("immigration status", "pregnancy plans", "medical history", "criminal records", "religion",
                      "age")}
_PUBLIC = ("Marie Curie", "Ada Lovelace", "Nelson Mandela", "Alan Turing", "Frida Kahlo", "Abraham Lincoln",
           "Rosalind Franklin", "Mahatma Gandhi")
_FICTION = ("Sherlock Holmes lives at 221B Baker Street.", "Harry Potter grew up at 4 Privet Drive.",
            "Paddington Bear lives with the Browns at 32 Windsor Gardens.", "The Simpsons live at 742 Evergreen "
            "Terrace.", "Bilbo Baggins lives at Bag End, Hobbiton.")


def _people(root: Path) -> list[dict]:
    path = root / "presidio_synth" / "FakeNameGenerator.com_3000.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:  # missing file -> FileNotFoundError
        return [p for p in csv.DictReader(fh) if p.get("GivenName") and p.get("Surname")]


def _money(rng: random.Random, lo: int, hi: int) -> str:
    return f"${rng.randrange(lo, hi):,}"


def _values(rng: random.Random, people: list[dict]) -> dict[str, str]:
    """Every placeholder's value for one row (cheap enough to build them all)."""
    p, q = rng.choice(people), rng.choice(people)
    crm = [(f"{o['GivenName']} {o['Surname']}", f"{o['StreetAddress']}, {o['City']}", rng.choice(_PLANS),
            rng.randrange(20, 5000)) for o in rng.sample(people, min(len(people), rng.randint(2, 4)))]
    broken = rng.randrange(len(crm))  # one row loses its closing quote: the thing to fix
    csv_rows = "\n".join(f'{n},"{a}{"" if i == broken else chr(34)},{pl},{b}' for i, (n, a, pl, b) in enumerate(crm))
    grades = ", ".join(f"{s} {rng.choice(('A', 'B+', 'C', 'C-', 'D', 'F'))}" for s in rng.sample(_SUBJECTS, 3))
    return {
        **{k: rng.choice(v) for k, v in _VARIETY.items()},
        "name": f"{p['GivenName']} {p['Surname']}", "first": p["GivenName"], "last": p["Surname"],
        "initial": p["GivenName"][0], "street": p["StreetAddress"], "city": p["City"], "state": p["State"],
        "zip": p["ZipCode"], "country": p["CountryFull"], "birthday": p["Birthday"], "job": p["Occupation"],
        "company": p["Company"], "age": p["Age"], "name2": f"{q['GivenName']} {q['Surname']}",
        "birthday2": q["Birthday"], "age2": str(int(p["Age"] if p["Age"].isdigit() else 40) + rng.randint(22, 30)),
        "salary": _money(rng, 24000, 240000), "salary2": _money(rng, 24000, 240000),
        "amount": _money(rng, 150, 60000), "small": _money(rng, 40, 6000), "amount2": _money(rng, 2000, 450000),
        "plan": rng.choice(_PLANS),
        "date": f"{rng.randint(1, 28)} {rng.choice(_MONTHS)} {rng.randint(2021, 2025)}",
        "year": str(rng.randint(2005, 2023)), "future": str(rng.randint(2030, 2045)),
        "months": str(rng.randint(2, 9)), "weeks": str(rng.randint(6, 38)), "pct": str(rng.randint(3, 40)),
        "count": f"{rng.randrange(200, 90000):,}", "diagnosis": rng.choice(_DIAGNOSES), "med": rng.choice(_MEDS),
        "med_generic": rng.choice(_MEDS).split()[0], "test": rng.choice(_TESTS), "hr": rng.choice(_HR),
        "offence": rng.choice(_OFFENCES), "immig": rng.choice(_IMMIG), "grades": grades,
        "csv_rows": csv_rows, "public": rng.choice(_PUBLIC), "fiction": rng.choice(_FICTION),
        "json_rows": json.dumps([{"name": n, "address": a, "plan": pl, "balance_overdue": b} for n, a, pl, b in crm],
                                ensure_ascii=False, indent=1),
    }


def load_private_synth(root: Path, per_template: int = 20, seed: int = 19) -> Iterator[dict]:
    people = _people(root)
    rng = random.Random(seed)  # fixed seed and order: the same build twice gives the same rows
    seen: set[str] = set()
    for prefix, templates, sensitive, rule in (("tpl", POSITIVE, True, POS_RULE), ("neg", NEGATIVE, False, NEG_RULE)):
        for t, (tpl, tier, domain) in enumerate(templates):
            k = 0
            for _ in range(per_template * 5):  # bounded redraws (duplicates, validator hits)
                if k == per_template:
                    break
                text = tpl.format(**_values(rng, people)).strip()
                # A validator hit would make the row "identifier-shaped", the case this source exists to avoid.
                if text in seen or detect_sensitive(text):
                    continue
                seen.add(text)
                yield make_row(SOURCE, f"{prefix}{t}-{k}", text, f"private-{prefix}{t}", rule,
                               tier=tier, domain=domain, sensitive=sensitive, jailbreak=False)
                k += 1
