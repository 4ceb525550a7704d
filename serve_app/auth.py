"""API keys -> tenant, and the admin key. Keys are read from the environment once, at start.

Only `Authorization: Bearer <key>` counts: a bare key in the header is a
client bug that would otherwise work by accident. Keys are compared as
bytes in constant time, against every configured key (so the time taken says
nothing about which key, or which prefix, was close).
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Mapping

from serve_app.config.files import duplicate_keys
from serve_app.config.schema import AuthConfig
from serve_app.errors import AuthError, ConfigError

log = logging.getLogger("triage.auth")

DEFAULT_TENANT = "default"


def bearer_token(authorization: str | None) -> bytes | None:
    """The token of an `Authorization: Bearer <token>` header, as bytes; None otherwise."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    # Header values arrive as latin-1 text: any byte the client sent maps back.
    return token.strip().encode("latin-1", "replace")


def matches(token: bytes | None, key: bytes) -> bool:
    return token is not None and hmac.compare_digest(token, key)


class TenantResolver:
    def __init__(self, auth: AuthConfig, environ: Mapping[str, str] = os.environ):
        # With tenants configured, auth is required even if some keys are
        # missing from the environment: a typo must not open the router.
        self.required = bool(auth.tenants)
        problems = duplicate_keys(auth, environ)
        if problems:
            raise ConfigError("auth", problems)
        self._keys: list[tuple[bytes, str]] = []
        for tenant, var in auth.tenants.items():
            if environ.get(var):
                self._keys.append((environ[var].encode("utf-8"), tenant))
            else:
                log.warning("tenant %s has no API key: environment variable %s is not set", tenant, var)

    def tenant(self, authorization: str | None) -> str:
        if not self.required:
            return DEFAULT_TENANT
        token = bearer_token(authorization)
        found = None
        for key, tenant in self._keys:  # no early exit: same time for every outcome
            if matches(token, key) and found is None:
                found = tenant
        if found is None:
            raise AuthError("missing or unknown API key (send Authorization: Bearer <key>)",
                            param="authorization")
        return found


class AdminKey:
    """The key of /admin/* (admin.key_env). Unset: every admin call is refused."""

    def __init__(self, key_env: str, environ: Mapping[str, str] = os.environ):
        self.key_env = key_env
        value = environ.get(key_env)
        self._key = value.encode("utf-8") if value else None

    def allows(self, authorization: str | None) -> bool:
        return self._key is not None and matches(bearer_token(authorization), self._key)

    def check(self, authorization: str | None) -> None:
        if not self.allows(authorization):
            raise AuthError(f"admin endpoints need the key in ${self.key_env}", param="authorization")
