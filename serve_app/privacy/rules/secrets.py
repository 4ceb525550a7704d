"""Secrets given in plain words, config lines and URLs.

Owns "the admin password for prod is Tr0ub4dor&3", "pwd: x", "PIN 4821",
"passphrase is correct horse battery staple", `DB_PASSWORD="..."`,
`--password hunter2`, `postgres://app:s3cret@db/prod` and seed phrases.
A value must look like a value: questions about passwords ("how do I reset
my password?", "the password is too short"), code that reads a secret from
somewhere (`os.environ[...]`) and placeholders (`<token>`, `YOUR_API_KEY`,
`****`, `changeme`) are not secrets.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from serve_app.privacy.findings import Span

# Labels whose value is a secret whatever it looks like.
_STRONG = (r"pass(?:word|wd|code|phrase| phrase|key)|pwd|pw|login password|root password|"
           r"wi-?fi (?:password|key)|seed phrase|recovery phrase|mnemonic(?: phrase)?|security answer|"
           r"(?:answer to (?:my|the) )?security question|unlock code|door code|alarm code|safe combination|"
           r"(?:safe|lock) combination")
# Labels that also name harmless things ("token" in NLP, "secret" of success): the value must look random.
_WEAK = (r"token|secret|key|api[ _-]?key|access[ _-]?key|secret[ _-]?key|private[ _-]?key|client[ _-]?secret|"
         r"auth(?:orization)?|bearer|credentials?|session(?: id| cookie)?|cookie|signing key|webhook secret")
_CONNECT = (r"(?:\s+(?:(?:is|was|has been|have been|will be|should be|got)\s+)?(?:now\s+)?(?:set|changed|reset|updated)"
            r"\s+to\s*[:=]?\s*|\s+(?:is|was|are|were|will be|should be)(?:\s+now)?\s*[:=]?\s*|\s*(?:[:=]|=>|->)\s*)")
_PHRASE = re.compile(
    rf"\b(?P<label>{_STRONG}|{_WEAK})\b(?P<qual>(?:\s+(?:for|of|on|to)\s+[^\s.,;:!?]+(?:\s+[^\s.,;:!?=]+){{0,5}}?)?)"
    rf"{_CONNECT}(?P<value>\"[^\"\n]{{3,120}}\"|'[^'\n]{{3,120}}'|`[^`\n]{{3,120}}`|[^\s\"'`]{{3,120}})",
    re.IGNORECASE,
)
# "pwd Zx81!spectrum": no connector, so the value must look made up.
_BARE = re.compile(r"\b(?P<label>password|passwd|pwd|pw|passcode|token|secret|key|api key|access key|"
                   r"secret key|secret access key|private key)\s+(?P<value>[^\s\"'`]{6,200})", re.IGNORECASE)
# "reset the staging DB password to X", "changed my PIN to 4821".
_SET_TO = re.compile(
    r"\b(?:set|reset|change|changed|update|updated|rotate|rotated)\s+(?:(?:the|my|our|his|her|their|its)\s+)?"
    r"(?:[\w-]+\s+){0,3}(?:password|passcode|passphrase|pin|pwd)\s+to\s+"
    r"(?P<value>\"[^\"\n]{3,120}\"|'[^'\n]{3,120}'|[^\s\"'`]{3,120})",
    re.IGNORECASE,
)
# Config and shell forms: DB_PASSWORD=..., "api_key": "...", --password x, -pSecret.
_ASSIGN = re.compile(
    r"(?P<label>\b[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api_?key|apikey|access_?key|private_?key|"
    r"credentials?|auth)[A-Za-z0-9_]*)[\"']?\s*(?:[:=]|:=)\s*(?P<value>\"[^\"\n]{3,200}\"|'[^'\n]{3,200}'|[^\s,;\"'`)}]{3,200})",
    re.IGNORECASE,
)
_FLAG = re.compile(r"(?:--(?:password|passwd|pass|token|secret|api-key)[= ]|\b(?:mysql|mysqldump|mysqladmin|mariadb)\b[^\n]*?"
                   r"\s-p(?=[^\s-]{4,}))(?P<value>[^\s\"']{4,}|\"[^\"]+\"|'[^']+')")
_URL_CREDS = re.compile(r"\b[a-z][a-z0-9+.-]{1,20}://(?P<user>[^\s:/@]{1,64}):(?P<value>[^\s@/]{1,128})@[^\s/]+")
_CVV = re.compile(r"\b(?:cvv2?|cvc2?|csc|card security code|security code)\s*(?:[:=#]|is|was)?\s*(?P<value>\d{3,4})\b",
                  re.IGNORECASE)
_PIN = re.compile(r"\b(?:PIN|pin (?:code|number)|PIN code|PIN number)(?:\s*(?:[:=#]|is|was|is now)\s*|\s+)(?P<value>\d{4,8})\b")
_LOGIN_PAIR = re.compile(r"\b(?:login|log in|user(?:name)?|user ?id|credentials (?:are|is|:))\s*(?:[:=]|is)?\s*\S+\s*(?:/|and|,)\s*(?:pass(?:word)?\s*(?:[:=]|is)\s*)?"
                         r"(?P<value>[^\s,;]{4,})", re.IGNORECASE)

_STOP = frozenset("""
a an the this that these those it its is are was were be been being to too of for in on at by with from as and or
not no never yes only just also very so such same my your his her our their me you him them us we they i he she
what which who whom whose when where why how if then than because while whether required needed necessary wrong
correct incorrect invalid valid expired expiring empty blank missing weak strong secure insecure safe unsafe long
short simple complex hard easy good bad best better worse worst different same new old stored saved hashed
encrypted encoded shown displayed hidden visible case sensitive forgotten lost reset changed updated the same
something anything nothing everything someone one two three four five random unique used usage generated
protected compromised leaked known unknown set stolen locked blocked ok okay fine sent needed mandatory optional
usually typically often always still now here there not-set none null undefined nil true false default
to be at least more less must should will would can could may might did do does done typed entered asked
about rotated revoked issued valid-for available below above following attached enclosed inside written
""".split())
_PLACEHOLDER = re.compile(
    r"^(?:<[^>]*>|\{\{?[^}]*\}?\}|\$\{?[A-Za-z_][\w.]*\}?|%\(?\w*\)?s?|\*+|x{3,}|\.{3,}|_+|-+|#+|"
    r"(?:your|my|the|some)[_-]\w+|your\w*|changeme|change_me|password|passw0rd|secret|token|example\w*|dummy\w*|"
    r"placeholder\w*|redacted|hidden|todo|tbd|none|null|nil|undefined|env\b.*|os\.\w+.*|process\.env.*|"
    r"getenv.*|config\..*|settings\..*|self\..*|request\..*|args?\..*|input\(.*|get_?\w*\(.*|\w+\(.*\)?|"
    r"vault:.*|[a-z]+://.*|[./~][\w./-]*|secrets?\..*|\w+\.\w+\[.*)$",
    re.IGNORECASE,
)


def _strip(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'`":
        return value[1:-1]
    return value.rstrip(".,;:!?)]}")


def _looks_random(value: str) -> bool:
    """Token-like: long enough and mixing letters with digits or symbols."""
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    mixed_case = any(c.isupper() for c in value[1:]) and any(c.islower() for c in value)
    return len(value) >= 8 and has_alpha and (has_digit or mixed_case or len(value) >= 20) and " " not in value


def _is_value(value: str, strong: bool, quoted: bool) -> bool:
    if not value or _PLACEHOLDER.match(value) or value.lower() in _STOP:
        return False
    if strong:
        return len(value) >= 3 and (quoted or not value.isalpha() or value.lower() not in _STOP)
    return _looks_random(value)


def _span(m: re.Match, group: str = "value") -> tuple[int, int, str, bool]:
    raw = m.group(group)
    quoted = raw[:1] in "\"'`" and raw[-1:] == raw[:1]
    value = _strip(raw)
    start = m.start(group) + (1 if quoted else 0)
    return start, start + len(value), value, quoted


def _passphrase(text: str, start: int) -> int:
    """Extend a multi-word passphrase to its end (up to 24 words, stops at punctuation)."""
    m = re.match(r"(?:\s+[a-z]+){2,23}", text[start:start + 200])
    return start + len(m.group()) if m else start


# Substrings each form cannot match without: checked first, since a case-insensitive
# alternation tried at every character is the expensive part of a regex scan.
_LABEL_HINTS = ("pass", "pw", "pin", "secret", "token", "key", "auth", "bearer", "credential", "session", "cookie",
                "phrase", "mnemonic", "security", "code", "combination", "cvv", "cvc", "csc")


def secrets(text: str) -> Iterator[Span]:
    lower = text.lower()
    labelled = any(h in lower for h in _LABEL_HINTS)
    if labelled:
        yield from _phrases(text)
        yield from _assignments(text)
    if "--" in text or " -p" in text:
        yield from _flags(text)
    if "://" in text and "@" in text:
        for m in _URL_CREDS.finditer(text):
            start, end, value, _ = _span(m)
            if _is_value(value, True, False):
                yield Span("PASSWORD", start, end, 0.9)
    if any(h in lower for h in ("login", "log in", "user", "credential")):
        for m in _LOGIN_PAIR.finditer(text):
            start, end, value, quoted = _span(m)
            if _is_value(value, True, quoted) and (_looks_random(value) or "credential" in m.group().lower()):
                yield Span("PASSWORD", start, end, 0.8)


def _phrases(text: str) -> Iterator[Span]:
    for m in _PHRASE.finditer(text):
        label = m.group("label").lower()
        strong = re.fullmatch(_STRONG, label, re.IGNORECASE) is not None
        start, end, value, quoted = _span(m)
        if ("phrase" in label or "mnemonic" in label) and not quoted:
            end = _passphrase(text, end)
            value = text[start:end]
            words = value.lower().split()
            if len(words) < 3 or 2 * sum(w in _STOP for w in words) >= len(words):
                continue
        elif not _is_value(value, strong, quoted):
            continue
        yield Span("PASSWORD", start, end, 0.9 if strong else 0.85)
    for m in _BARE.finditer(text):
        start, end, value, _ = _span(m)
        # Without "is" or ":" only a made-up looking value counts; after "key"/"token", a long one.
        weak = m.group("label").lower() not in ("password", "passwd", "pwd", "pw", "passcode")
        if _looks_random(value) and not _PLACEHOLDER.match(value) and (not weak or len(value) >= 16):
            yield Span("PASSWORD", start, end, 0.85)
    for m in _SET_TO.finditer(text):
        start, end, value, quoted = _span(m)
        if _is_value(value, True, quoted):
            yield Span("PASSWORD", start, end, 0.9)
    for m in _PIN.finditer(text):
        yield Span("PASSWORD", m.start("value"), m.end("value"), 0.85)
    for m in _CVV.finditer(text):
        yield Span("CREDIT_CARD", m.start("value"), m.end("value"), 0.85)


def _assignments(text: str) -> Iterator[Span]:
    if "=" not in text and ":" not in text:
        return
    for m in _ASSIGN.finditer(text):
        start, end, value, quoted = _span(m)
        label = m.group("label").lower()
        strong = any(w in label for w in ("password", "passwd", "pwd"))
        # An identifier label (MAX_TOKENS, PASSWORD_MIN_LENGTH) needs a literal that looks like a secret.
        if _is_value(value, strong and quoted, quoted) and (quoted or _looks_random(value)):
            yield Span("PASSWORD", start, end, 0.85)


def _flags(text: str) -> Iterator[Span]:
    for m in _FLAG.finditer(text):
        start, end, value, _ = _span(m)
        if _is_value(value, True, True):
            yield Span("PASSWORD", start, end, 0.85)
