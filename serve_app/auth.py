"""API key -> tenant. Keys are read from the environment once, at start."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from serve_app.config.schema import AuthConfig
from serve_app.errors import AuthError

log = logging.getLogger("triage.auth")

DEFAULT_TENANT = "default"


class TenantResolver:
    def __init__(self, auth: AuthConfig, environ: Mapping[str, str] = os.environ):
        # With tenants configured, auth is required even if some keys are
        # missing from the environment: a typo must not open the router.
        self.required = bool(auth.tenants)
        self.keys: dict[str, str] = {}
        for tenant, var in auth.tenants.items():
            if environ.get(var):
                self.keys[environ[var]] = tenant
            else:
                log.warning("tenant %s has no API key: environment variable %s is not set", tenant, var)

    def tenant(self, authorization: str | None) -> str:
        if not self.required:
            return DEFAULT_TENANT
        token = (authorization or "").removeprefix("Bearer ").strip()
        if token not in self.keys:
            raise AuthError("missing or unknown API key", param="authorization")
        return self.keys[token]
