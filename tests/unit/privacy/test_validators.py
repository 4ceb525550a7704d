import pytest

from serve_app.privacy.validators import KINDS, detect_sensitive, iban_ok, luhn_ok

POSITIVE = [
    # email
    ("Contact me at jane.doe+news@example.co.uk please", "email"),
    ("my address is bob_smith@mail.example.com.", "email"),
    # phone
    ("Call me on +1 415-555-0100 tomorrow", "phone"),
    ("Office: (415) 555-0100", "phone"),
    ("London desk +44 20 7946 0958", "phone"),
    ("Reach me at 415.555.0100.", "phone"),
    ("Paris: +33 1 23 45 67 89", "phone"),
    ("1-800-555-0199 is the hotline", "phone"),
    # card (Luhn-valid)
    ("My card is 4111 1111 1111 1111, expiry 12/27", "card"),
    ("charge 5555-5555-5555-4444 now", "card"),
    ("amex 378282246310005", "card"),
    # iban (mod-97 valid)
    ("Pay to GB82 WEST 1234 5698 7654 32 by Friday", "iban"),
    ("IBAN: DE89370400440532013000", "iban"),
    ("fr14 2004 1010 0505 0001 3m02 606", "iban"),
    # ssn
    ("SSN 123-45-6789", "ssn"),
    ("my social is 536-22-1234.", "ssn"),
    # api keys
    ("key = sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34", "api_key"),
    ("OPENAI_API_KEY=sk-1234567890abcdefghijklmnop", "api_key"),
    ("aws AKIAIOSFODNN7EXAMPLE", "api_key"),
    ("token ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij", "api_key"),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "api_key"),
    ("slack xoxb-123456789012-abcdefABCDEF", "api_key"),
    ("AIzaSyA1234567890abcdefghijklmnopqrstuv", "api_key"),
    ("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N", "api_key"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow...", "api_key"),
    ("-----BEGIN PRIVATE KEY-----", "api_key"),
    # ip
    ("the server is at 192.168.1.20.", "ip_address"),
    ("ssh root@10.0.0.255 -p 22", "ip_address"),
]

NEGATIVE = [
    "I paid $1,234.56 in 2023",
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many in May.",
    "What are symptoms of diabetes?",
    "order 123456",
    "upgrade to v1.2.3 first",
    "version 10.0.19041.1 of Windows",
    "section 1.2.3.4.5 of the spec",
    "Alice Johnson lives in Paris",
    "The meeting is on 2024-03-15 at 10:30",
    "Dates like 12/25/2023 and 03-15-2024 are fine",
    "The population was 1,402,000,000 in 2020",
    "My card is 4111 1111 1111 1112",  # Luhn fails
    "Pay to GB82 WEST 1234 5698 7654 33",  # checksum broken
    "000-12-3456",  # invalid SSN area
    "666-12-3456",
    "900-12-3456",
    "123-00-4567",
    "123-45-0000",
    "123-456-7890 is a placeholder",  # NANP area code cannot start with 1
    "Compute 3+4*5 and 12-3-4",
    "pip install scikit-learn and sk-learn",
    "the ip 256.1.1.1 is not valid",
    "tracking number 1700000000000",
    "0000 0000 0000 0000",
    "Temperature +12.5 degrees",
    "user@localhost",
    "",
]


@pytest.mark.parametrize("text,kind", POSITIVE)
def test_positive(text, kind):
    assert kind in detect_sensitive(text)


@pytest.mark.parametrize("text", NEGATIVE)
def test_negative(text):
    assert detect_sensitive(text) == ()


def test_kinds_sorted_and_combined():
    text = "mail a@b.io, SSN 123-45-6789, card 4111111111111111"
    kinds = detect_sensitive(text)
    assert kinds == ("card", "email", "ssn")
    assert list(KINDS) == sorted(KINDS)


def test_checksums():
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")
    assert iban_ok("GB82WEST12345698765432")
    assert not iban_ok("GB82WEST12345698765433")
    assert not iban_ok("GB82")


def test_iban_followed_by_words():
    # The country's length stops the match before the trailing words.
    assert detect_sensitive("GB82 WEST 1234 5698 7654 32 is my account") == ("iban",)


def test_long_text_of_short_numbers_is_not_sensitive():
    text = ("Some ordinary words 12 34 56 and numbers 2023. " * 4000)[:200_000]
    assert detect_sensitive(text) == ()


@pytest.mark.parametrize("text", [
    "My patient John Smith, DOB 03/04/1961, has elevated troponin",
    "date of birth: 12 March 1980, please update the record",
    "Patient born on March 3, 1961 was admitted",
    "MRN: 00123456, admitted overnight",
])
def test_labelled_birth_dates_and_record_numbers_are_phi(text):
    assert detect_sensitive(text) == ("medical_id",)


@pytest.mark.parametrize("text", ["She was born in 1961.", "Why is a DOB field required on forms?",
                                  "The record number grew to 12 this year."])
def test_unlabelled_dates_are_not_phi(text):
    assert "medical_id" not in detect_sensitive(text)
