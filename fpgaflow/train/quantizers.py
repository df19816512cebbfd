"""Brevitas quantizers for the recipes: integer, binarized, ternary and power-of-two weights.

All scales are powers of two (Brevitas' fixed-point quantizers), as FINN prefers: the integer
layers then need no rescaling multipliers. Kinds of weight quantizer (:data:`WEIGHT_KINDS`):

``int``
    ``bits``-bit narrow-range signed integers times a power-of-two scale.
``binary``
    bipolar {-1, +1} with the constant scale 1 (FINN's XNOR-popcount layers); ``bits`` is 1.
``ternary``
    {-1, 0, +1} times a power-of-two scale (2-bit narrow range); ``bits`` is 2.
``po2``
    signed powers of two: the latent weight is snapped to ``sign(w) * 2**round(log2|w|)``
    (straight-through gradient), keeping the ``bits - 1`` largest exponents; the codes are
    ``{0, +-1, +-2, ..., +-2**(bits-2)}``, so the layer needs shifts and adds, no multipliers.

Activations: ``bits`` >= 2 is an unsigned ``QuantReLU``; 1 is a bipolar sign (``QuantIdentity``).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from brevitas.nn import QuantIdentity, QuantReLU
from brevitas.quant import (
    Int8ActPerTensorFixedPoint,
    Int8WeightPerTensorFixedPoint,
    SignedBinaryActPerTensorConst,
    SignedBinaryWeightPerTensorConst,
    Uint8ActPerTensorFixedPoint,
)

WEIGHT_KINDS = ("int", "binary", "ternary", "po2")


class BinaryWeight(SignedBinaryWeightPerTensorConst):
    """Bipolar weights {-1, +1} with the constant scale 1 (FINN style)."""

    scaling_const = 1.0


class _Po2CodeIntScaling(nn.Module):
    """Integer threshold ``2**(bits - 2)``: the largest power of two a narrow range holds.

    Brevitas divides ``max|w|`` by this before rounding the scale up to a power of two; its own
    fixed-point quantizers use ``2**(bits - 1)``, which a narrow range would clip to one less.
    """

    def __init__(self) -> None:  # the dependency injector needs an explicit signature
        super().__init__()

    def forward(self, bit_width: torch.Tensor, signed: bool | None = None) -> torch.Tensor:
        """Return ``2**(bit_width - 2)``."""
        return torch.exp2(bit_width - 2)


class Po2Weight(Int8WeightPerTensorFixedPoint):
    """Fixed-point weights whose largest power-of-two magnitude gets the code ``2**(bits-2)``."""

    int_scaling_impl = _Po2CodeIntScaling


class Po2Snap(nn.Module):
    """Parametrization snapping a weight to signed powers of two, straight-through gradient."""

    def __init__(self, levels: int) -> None:
        super().__init__()
        self.levels = levels

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        """The snapped weight in the forward pass; the gradient reaches the latent weight unchanged."""
        return w + (snap_to_po2(w.detach(), self.levels) - w).detach()


def snap_to_po2(w: torch.Tensor, levels: int) -> torch.Tensor:
    """``sign(w) * 2**round(log2|w|)``, zeroing all but the ``levels`` largest exponents."""
    nonzero = w != 0
    if not bool(nonzero.any()):
        return torch.zeros_like(w)
    exponent = torch.round(torch.log2(w.abs().clamp_min(torch.finfo(w.dtype).tiny)))
    keep = nonzero & (exponent > exponent[nonzero].max() - levels)
    return torch.where(keep, torch.sign(w) * torch.exp2(exponent), torch.zeros_like(w))


def check_weight_quant(kind: str, bits: int, where: str) -> None:
    """Refuse a weight kind / bit width pair that does not exist (ValueError naming ``where``)."""
    if kind not in WEIGHT_KINDS:
        raise ValueError(f"{where}: unknown weight quantizer {kind!r}; use one of {', '.join(WEIGHT_KINDS)}")
    fixed = {"binary": 1, "ternary": 2}
    if kind in fixed and bits != fixed[kind]:
        raise ValueError(f"{where}: {kind} weights are {fixed[kind]}-bit, not {bits}-bit")
    if kind == "int" and not 2 <= bits <= 8:
        raise ValueError(f"{where}: integer weights need 2 to 8 bits, not {bits} (use binary for 1 bit)")
    if kind == "po2" and not 2 <= bits <= 6:
        raise ValueError(f"{where}: power-of-two weights need 2 to 6 bits, not {bits}")


def weight_quant_kwargs(kind: str, bits: int) -> dict:
    """Keyword arguments for a ``QuantLinear`` / ``QuantConv2d`` with this weight quantizer."""
    if kind == "binary":
        return {"weight_quant": BinaryWeight}
    if kind == "po2":
        return {"weight_quant": Po2Weight, "weight_bit_width": bits, "weight_narrow_range": True}
    return {"weight_quant": Int8WeightPerTensorFixedPoint, "weight_bit_width": bits, "weight_narrow_range": True}


def attach_po2_snap(layer: nn.Module, bits: int) -> None:
    """Snap ``layer.weight`` to powers of two while training (see :class:`Po2Snap`)."""
    parametrize.register_parametrization(layer, "weight", Po2Snap(levels=bits - 1))


def freeze_po2_snap(model: nn.Module) -> None:
    """Make every power-of-two snapping permanent: the layers then hold the snapped weights."""
    for module in model.modules():
        if parametrize.is_parametrized(module, "weight"):
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)


def activation(bits: int) -> nn.Module:
    """An unsigned ``bits``-bit ``QuantReLU``, or a bipolar sign for ``bits == 1``."""
    if bits == 1:
        return QuantIdentity(act_quant=SignedBinaryActPerTensorConst)
    return QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, bit_width=bits)


def input_quant(bits: int = 8) -> nn.Module:
    """The signed ``bits``-bit input quantizer (covers [0, 1) images with a power-of-two scale)."""
    return QuantIdentity(act_quant=Int8ActPerTensorFixedPoint, bit_width=bits)
