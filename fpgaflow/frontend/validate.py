"""Checks of quantizer parameters and node attributes (placeholder until the fuzz findings land)."""

from __future__ import annotations


def validate_model(model) -> None:
    """Raise a UserError naming the first node with malformed quantizer parameters."""
    return None
