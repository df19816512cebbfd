"""Brevitas model recipes: FINN-style quantized MLPs (TFC) and CNVs with per-layer bit widths.

A :class:`Recipe` says the topology and, per layer, the weight quantizer kind and bits and the
activation bits; :func:`build_model` turns it into a :class:`QuantNet`. The layers follow FINN's
TFC/CNV: an 8-bit signed input quantizer, then per hidden layer a bias-free ``QuantLinear`` or
3x3 valid ``QuantConv2d``, ``BatchNorm``, and a quantized activation (2x2 max pools where the
CNV recipe says ``M``), and a final ``QuantLinear`` with a float bias whose output is the logits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from torch import nn

from brevitas.nn import QuantConv2d, QuantLinear

from fpgaflow.train.quantizers import (
    activation,
    attach_po2_snap,
    check_weight_quant,
    input_quant,
    weight_quant_kwargs,
)

ARCHS = ("mlp", "cnv")
POOL = "M"


@dataclass
class Recipe:
    """A quantized network's topology and per-layer quantization.

    Attributes:
        arch: ``mlp`` or ``cnv``.
        hidden: widths of the hidden fully connected layers.
        conv: CNV only: conv output channels in order, ``"M"`` for a 2x2 max pool.
        weight: weight quantizer kind per compute layer (convs, hidden, output), or one for all.
        weight_bits: weight bits per compute layer, or one for all.
        act_bits: activation bits after each conv and hidden layer, or one for all (1 = bipolar).
        input_bits: bits of the signed input quantizer.
    """

    arch: str = "mlp"
    hidden: tuple[int, ...] = (64, 64, 64)
    conv: tuple = ()
    weight: tuple[str, ...] | str = "int"
    weight_bits: tuple[int, ...] | int = 2
    act_bits: tuple[int, ...] | int = 2
    input_bits: int = 8
    extra: dict = field(default_factory=dict)  # free-form notes saved with the checkpoint

    def layer_count(self) -> int:
        """Compute layers (convolutions, hidden and output linear layers)."""
        return sum(1 for c in self.conv if c != POOL) + len(self.hidden) + 1

    def per_layer(self) -> list[tuple[str, int, int | None]]:
        """(weight kind, weight bits, activation bits or None for the output layer) per layer."""
        n = self.layer_count()

        def spread(value, what, length):
            values = [value] * length if isinstance(value, (int, str)) else list(value)
            if len(values) != length:
                raise ValueError(f"{what}: {len(values)} values for {length} layers")
            return values

        kinds = spread(self.weight, "weight", n)
        bits = spread(self.weight_bits, "weight bits", n)
        acts = spread(self.act_bits, "activation bits", n - 1) + [None]
        for i, (kind, b, a) in enumerate(zip(kinds, bits, acts)):
            check_weight_quant(kind, int(b), f"layer {i}")
            if a is not None and not 1 <= int(a) <= 8:
                raise ValueError(f"layer {i}: activation bits must be 1 to 8, not {a}")
        if not 2 <= self.input_bits <= 8:
            raise ValueError(f"input bits must be 2 to 8, not {self.input_bits}")
        return [(k, int(b), None if a is None else int(a)) for k, b, a in zip(kinds, bits, acts)]

    def to_dict(self) -> dict:
        """A JSON-friendly copy (lists instead of tuples)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> "Recipe":
        """The inverse of :meth:`to_dict`."""
        data = dict(data)
        for key in ("hidden", "conv", "weight", "weight_bits", "act_bits"):
            if isinstance(data.get(key), list):
                data[key] = tuple(data[key])
        return cls(**data)


class QuantNet(nn.Module):
    """A recipe's Brevitas network: ``body`` is a ``Sequential`` from input quantizer to logits."""

    def __init__(self, recipe: Recipe, input_shape: tuple[int, ...], num_classes: int) -> None:
        super().__init__()
        if recipe.arch not in ARCHS:
            raise ValueError(f"unknown architecture {recipe.arch!r}; use one of {', '.join(ARCHS)}")
        self.recipe = recipe
        self.input_shape = tuple(input_shape)
        self.num_classes = num_classes
        quant = iter(recipe.per_layer())
        layers: list[nn.Module] = [input_quant(recipe.input_bits)]
        if recipe.arch == "cnv":
            if len(self.input_shape) != 3:
                raise ValueError(f"a CNV takes (C, H, W) images, not {self.input_shape}")
            channels, height, width = self.input_shape
            for item in recipe.conv:
                if item == POOL:
                    layers.append(nn.MaxPool2d(2))
                    height, width = height // 2, width // 2
                    continue
                kind, bits, act = next(quant)
                layers += [_compute(QuantConv2d, channels, int(item), kind, bits, bias=False, kernel_size=3),
                           nn.BatchNorm2d(int(item)), activation(act)]
                channels, height, width = int(item), height - 2, width - 2
                if min(height, width) < 1:
                    raise ValueError(f"conv layers {recipe.conv} shrink the {self.input_shape[1]}-pixel image "
                                     "to nothing (each 3x3 conv takes 2 pixels, each M halves)")
            layers.append(nn.Flatten())
            features = channels * height * width
        else:
            features = 1
            for d in self.input_shape:
                features *= d
        for width in recipe.hidden:
            kind, bits, act = next(quant)
            layers += [_compute(QuantLinear, features, width, kind, bits, bias=False),
                       nn.BatchNorm1d(width), activation(act)]
            features = width
        kind, bits, _ = next(quant)
        layers.append(_compute(QuantLinear, features, num_classes, kind, bits, bias=True))
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        """Logits for a batch shaped ``(N, *input_shape)``."""
        return self.body(x)

    def compute_layers(self) -> list[nn.Module]:
        """The ``QuantConv2d`` and ``QuantLinear`` layers in order (the prunable ones)."""
        return [m for m in self.body if isinstance(m, (QuantConv2d, QuantLinear))]


def _compute(cls, fan_in: int, fan_out: int, kind: str, bits: int, bias: bool, **kwargs) -> nn.Module:
    layer = cls(fan_in, fan_out, bias=bias, **kwargs, **weight_quant_kwargs(kind, bits))
    if kind == "po2":
        attach_po2_snap(layer, bits)
    return layer


def build_model(recipe: Recipe, input_shape: tuple[int, ...], num_classes: int) -> QuantNet:
    """A fresh :class:`QuantNet` for ``recipe``; an MLP's input shape is flattened to one vector."""
    if recipe.arch == "mlp":
        n = 1
        for d in input_shape:
            n *= d
        input_shape = (n,)
    return QuantNet(recipe, input_shape, num_classes)
