"""What every part of the router config shares: strictness and the tiers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Tier = Literal["slm", "srm", "llm", "lrm"]
# In cost order: policy walks them cheapest first.
TIERS: tuple[str, ...] = ("slm", "srm", "llm", "lrm")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
