"""Installed sentiment models (placeholder until the trainer lands)."""

from __future__ import annotations

from typing import Any


def model_for(brand: Any = None) -> Any:
    return None
