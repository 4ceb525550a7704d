"""Triage's validators as Presidio recognizers keep the verdicts of privacy/validators.py."""

import pytest

from serve_app.privacy.validators import detect_sensitive
from tests.unit.privacy.test_validators import NEGATIVE, POSITIVE

recognizers = pytest.importorskip("serve_app.privacy.recognizers")

BY_KIND = {
    "email": (recognizers.EmailRecognizer, "EMAIL_ADDRESS"),
    "phone": (recognizers.PhoneRecognizer, "PHONE_NUMBER"),
    "card": (recognizers.CardRecognizer, "CREDIT_CARD"),
    "iban": (recognizers.IbanRecognizer, "IBAN_CODE"),
    "ssn": (recognizers.SsnRecognizer, "US_SSN"),
    "api_key": (recognizers.ApiKeyRecognizer, "API_KEY"),
    "ip_address": (recognizers.IpRecognizer, "IP_ADDRESS"),
}
VALIDATORS = [cls for cls, _ in BY_KIND.values()] + [recognizers.MedicalIdRecognizer]


@pytest.mark.parametrize("text,kind", POSITIVE)
def test_old_positives_still_found_by_their_recognizer(text, kind):
    cls, entity = BY_KIND[kind]
    results = cls().analyze(text, [])
    assert [r.entity_type for r in results if r.entity_type == entity], text
    for r in results:  # offsets point at the value, inside the text
        assert 0 <= r.start < r.end <= len(text)


@pytest.mark.parametrize("text", NEGATIVE)
def test_old_negatives_stay_negative(text):
    assert detect_sensitive(text) == ()
    assert [r for cls in VALIDATORS for r in cls().analyze(text, [])] == []


@pytest.mark.parametrize("text", [
    "My patient John Smith, DOB 03/04/1961, has elevated troponin",
    "date of birth: 12 March 1980, please update the record",
    "Patient born on March 3, 1961 was admitted",
    "MRN: 00123456, admitted overnight",
])
def test_labelled_dob_and_mrn(text):
    kinds = {r.entity_type for r in recognizers.MedicalIdRecognizer().analyze(text, [])}
    assert kinds & {"DATE_OF_BIRTH", "MEDICAL_RECORD_NUMBER"}


def test_recognizers_report_exact_spans():
    text = "card 4111 1111 1111 1111 and GB82 WEST 1234 5698 7654 32 is mine"
    card = recognizers.CardRecognizer().analyze(text, [])[0]
    iban = recognizers.IbanRecognizer().analyze(text, [])[0]
    assert text[card.start:card.end] == "4111 1111 1111 1111"
    assert text[iban.start:iban.end] == "GB82 WEST 1234 5698 7654 32"


@pytest.mark.parametrize("text,value", [
    ("order 7 4111 1111 1111 1111 thanks", "4111 1111 1111 1111"),  # a stray digit before the card
    ("4111.1111.1111.1111", "4111.1111.1111.1111"),
    ("card # 501864667909", "501864667909"),  # Maestro, 12 digits, labelled
])
def test_card_layouts(text, value):
    spans = [text[r.start:r.end] for r in recognizers.CardRecognizer().analyze(text, [])]
    assert value in spans


@pytest.mark.parametrize("text", ["Is 4111111111111111 divisible by 7?", "Explain the CIDR block 10.0.0.0/8",
                                  "What does 127.0.0.1 mean?", "Is 8.8.8.8 Google's DNS?"])
def test_math_and_network_ranges_are_not_identifiers(text):
    assert recognizers.CardRecognizer().analyze(text, []) == []
    assert recognizers.IpRecognizer().analyze(text, []) == []


def test_private_key_body_is_part_of_the_span():
    text = "fix:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1234\n-----END RSA PRIVATE KEY-----\nthanks"
    r = recognizers.ApiKeyRecognizer().analyze(text, [])[0]
    assert "MIIEowIBAAKCAQEA1234" in text[r.start:r.end]
