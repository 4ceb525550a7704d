"""Privacy detection and redaction: keeps personal, health, financial and secret data off cloud models.

Submodules own one concern each: `settings` (PrivacySettings), `findings`
(result values, entity types), `rules/` (pure span finders), `recognizers`
(the rules as Presidio recognizers, spaCy names), `combine` (context rules),
`detector` (PrivacyDetector), `redaction` (placeholders via
presidio-anonymizer) and `restore` (placeholders back to values in JSON
bodies and streams). Nothing heavy is imported here: Presidio and spaCy load
when a PrivacyDetector is constructed or a text is redacted.
"""
