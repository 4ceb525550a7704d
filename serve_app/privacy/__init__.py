"""Privacy detection and redaction: keeps personal, health, financial and secret data off cloud models.

The request path needs only what is exported here:

    detector = PrivacyDetector(PrivacySettings())          # loads Presidio + spaCy (~1-5 s); once per replica
    findings = detector.analyze(text)                       # Findings: .sensitive, .kinds, .items, .elapsed_ms
    red = redact_request(body, partial(detector.analyze, all_names=True), settings.redaction)
    answer = restore_response(cloud_answer, red.mapping)    # or ChunkRestorer(red.mapping) for streams

Submodules own one concern each: `settings` (PrivacySettings), `findings`
(result values, entity types), `rules/` (pure span finders), `recognizers`
(the rules as Presidio recognizers, names near cues), `combine` (context
rules), `detector` (PrivacyDetector), `redaction` (placeholders via
presidio-anonymizer) and `restore` (values back into JSON bodies and
streams). Nothing heavy is imported here: Presidio and spaCy load when a
PrivacyDetector is constructed or a text is redacted.
"""

from serve_app.privacy.detector import PrivacyDetector
from serve_app.privacy.findings import ENTITY_TYPES, Finding, Findings
from serve_app.privacy.redaction import Placeholders, RedactedRequest, Redaction, redact, redact_request
from serve_app.privacy.restore import ChunkRestorer, StreamRestorer, restore_response, restore_text
from serve_app.privacy.settings import PrivacyRules, PrivacySettings, RedactionSettings

__all__ = [
    "ENTITY_TYPES", "ChunkRestorer", "Finding", "Findings", "Placeholders", "PrivacyDetector", "PrivacyRules",
    "PrivacySettings", "RedactedRequest", "Redaction", "RedactionSettings", "StreamRestorer", "redact",
    "redact_request", "restore_response", "restore_text",
]
