"""Escalation to a person, I/O half: the signed, retried webhook delivery
(webhook.py) and what the client receives (answer.py). Whether a request is
escalated is policy: serve_app/policy/escalate.py."""
