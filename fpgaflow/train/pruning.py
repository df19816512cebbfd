"""Pruning Brevitas layers: magnitude (unstructured) and L1-ranked filters or channels (structured).

Masks go on through ``torch.nn.utils.prune`` (``weight = weight_orig * weight_mask``), so the
masked weights stay zero while training goes on; :func:`make_permanent` folds them in.

Structured pruning removes a whole output channel (a neuron, or a convolution filter) of one layer
*and* the matching input columns of the next layer, ranked by the L1 norm of the filter
(``filters``: what the channel computes from) or of the next layer's columns (``channels``: how much
the next layer uses it, as in channel pruning). The pruned channel then feeds nothing, so
:func:`fpgaflow.train.slim.slim` can delete it and give exactly the same outputs whatever the
channel's BatchNorm and activation make of it.

Schedules: one-shot (all at once, then fine-tuning) and gradual, the cubic ramp of Zhu and Gupta
(2017), ``s(t) = s_final * (1 - (1 - t / T)**3)``, whose masks grow while fine-tuning goes on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils import prune

from brevitas.nn import QuantConv2d

log = logging.getLogger(__name__)

METHODS = ("magnitude", "filters", "channels")
STRUCTURED = ("filters", "channels")
SCHEDULES = ("oneshot", "gradual")


@dataclass
class PruneConfig:
    """How to prune.

    Attributes:
        method: ``magnitude`` (single weights), ``filters`` or ``channels`` (whole neurons / conv
            filters, ranked by their own weights or by the next layer's).
        sparsity: the final fraction pruned per layer: one number, or one per compute layer.
            For ``filters`` and ``channels`` it is the fraction of a layer's output channels; the output layer
            (whose channels are the classes) takes 0.
        schedule: ``oneshot`` or ``gradual`` (cubic ramp).
        finetune_epochs: epochs of training with the masks after the dense training.
        ramp_epochs: gradual only: epochs over which the sparsity ramps up (the rest of the
            fine-tuning runs at the final sparsity) [default: 2/3 of ``finetune_epochs``].
        updates_per_epoch: gradual only: mask updates per epoch of the ramp.
    """

    method: str = "magnitude"
    sparsity: float | tuple[float, ...] = 0.5
    schedule: str = "oneshot"
    finetune_epochs: int = 5
    ramp_epochs: int | None = None
    updates_per_epoch: int = 4

    def check(self, layers: int) -> list[float]:
        """The per-layer final sparsities; ValueError on anything out of range."""
        if self.method not in METHODS:
            raise ValueError(f"unknown pruning method {self.method!r}; use one of {', '.join(METHODS)}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown pruning schedule {self.schedule!r}; use one of {', '.join(SCHEDULES)}")
        values = [float(self.sparsity)] * layers if isinstance(self.sparsity, (int, float)) else list(self.sparsity)
        if len(values) != layers:
            raise ValueError(f"sparsity: {len(values)} values for {layers} layers")
        if self.method in STRUCTURED and isinstance(self.sparsity, (int, float)):
            values[-1] = 0.0
        for i, s in enumerate(values):
            if not 0 <= s < 1:
                raise ValueError(f"sparsity of layer {i}: {s} is not in [0, 1)")
        if self.method in STRUCTURED and values[-1] != 0:
            raise ValueError(f"{self.method} pruning cannot remove the output layer's channels (the classes); give it 0")
        if self.finetune_epochs < 1:
            raise ValueError("pruning needs at least one fine-tuning epoch")
        return values

    def ramp(self) -> int:
        """Epochs of the gradual ramp."""
        return max(1, self.ramp_epochs if self.ramp_epochs is not None else (2 * self.finetune_epochs) // 3)


def cubic_sparsity(t: float, total: float, final: float, initial: float = 0.0) -> float:
    """Zhu and Gupta's gradual schedule at time ``t`` of a ramp of length ``total``."""
    frac = min(max(t / total, 0.0), 1.0)
    return final + (initial - final) * (1.0 - frac) ** 3


def check_prunable(model, sparsities: list[float], method: str = "magnitude") -> None:
    """Refuse layers whose weights cannot be zero (binarized) or are snapped (power of two).

    Structured pruning also masks the next layer's inputs, so that layer must be prunable too.
    """
    kinds = [k for k, _, _ in model.recipe.per_layer()]
    for i, s in enumerate(sparsities):
        touched = [i, i + 1] if method in STRUCTURED else [i]
        for j in touched if s > 0 else []:
            if kinds[j] == "binary":
                raise ValueError(f"layer {j}: binarized weights are +-1 and cannot be pruned; give "
                                 f"{'it' if j == i else f'layer {i}'} sparsity 0")
            if kinds[j] == "po2":
                raise ValueError(f"layer {j}: power-of-two layers already zero their small weights and are not "
                                 f"pruned; give {'it' if j == i else f'layer {i}'} sparsity 0")


def effective_weight(layer: nn.Module) -> torch.Tensor:
    """The weight the layer computes with (masked, if pruned), detached.

    Computed from ``weight_orig * weight_mask``: ``layer.weight`` is a copy that torch refreshes
    only on the next forward pass, so it lags behind a mask that just changed (or a checkpoint
    just loaded).
    """
    if prune.is_pruned(layer):
        return (layer.weight_orig * layer.weight_mask).detach()
    return layer.weight.detach()


def magnitude_mask(weight: torch.Tensor, sparsity: float) -> torch.Tensor:
    """Keep the largest magnitudes, zeroing ``round(sparsity * size)`` weights (L1 unstructured)."""
    k = int(round(sparsity * weight.numel()))
    mask = torch.ones_like(weight)
    if k:
        order = torch.argsort(weight.abs().flatten(), stable=True)
        mask.view(-1)[order[:k]] = 0
    return mask


def weakest(norms: torch.Tensor, sparsity: float) -> torch.Tensor:
    """Indices of the ``round(sparsity * len(norms))`` smallest ``norms`` (ties: lowest index first)."""
    return torch.argsort(norms, stable=True)[:int(round(sparsity * len(norms)))]


def filter_norms(weight: torch.Tensor) -> torch.Tensor:
    """L1 norm of each output channel's weights (a row, or a conv filter)."""
    return weight.abs().reshape(weight.shape[0], -1).sum(1)


def channel_norms(layer: nn.Module, nxt: nn.Module) -> torch.Tensor:
    """L1 norm of the next layer's weights reading each output channel of ``layer``."""
    w = effective_weight(nxt).abs()
    channels = effective_weight(layer).shape[0]
    per_position = w.transpose(0, 1).reshape(w.shape[1], -1).sum(1)
    return per_position.reshape(channels, -1).sum(1)  # a conv feeding a linear layer: H*W columns each


def input_positions(layer: nn.Module, nxt: nn.Module, channels: torch.Tensor) -> torch.Tensor:
    """Input positions (weight dimension 1) of ``nxt`` fed by output ``channels`` of ``layer``.

    A convolution followed (after pooling and flattening) by a linear layer feeds it
    ``height * width`` consecutive columns per channel (channel-major flattening).
    """
    if isinstance(layer, QuantConv2d) and not isinstance(nxt, QuantConv2d):
        per_channel = nxt.in_features // layer.out_channels
        return (channels[:, None] * per_channel + torch.arange(per_channel)[None, :]).flatten()
    return channels


def masks_for(model, method: str, sparsities: list[float]) -> dict[int, torch.Tensor]:
    """Masks (by compute-layer index) reaching ``sparsities`` from the current weights."""
    layers = model.compute_layers()
    masks = {i: torch.ones_like(effective_weight(l)) for i, l in enumerate(layers)}
    for i, (layer, s) in enumerate(zip(layers, sparsities)):
        w = effective_weight(layer)
        if method == "magnitude":
            masks[i] = masks[i] * magnitude_mask(w, s)
        elif s > 0:
            norms = filter_norms(w) if method == "filters" else channel_norms(layer, layers[i + 1])
            channels = weakest(norms, s)
            masks[i][channels] = 0
            masks[i + 1].index_fill_(1, input_positions(layer, layers[i + 1], channels), 0)
    return {i: m for i, m in masks.items() if not bool(m.all())}


def apply_masks(model, masks: dict[int, torch.Tensor]) -> None:
    """Put ``masks`` on the compute layers; a layer's masks only grow (a pruned weight stays pruned)."""
    for i, layer in enumerate(model.compute_layers()):
        if i not in masks:
            continue
        if prune.is_pruned(layer):
            layer.weight_mask.mul_(masks[i])
        else:
            prune.custom_from_mask(layer, "weight", masks[i])


def prune_to(model, method: str, sparsities: list[float]) -> None:
    """Prune ``model`` in place to ``sparsities`` (already pruned weights stay pruned)."""
    apply_masks(model, masks_for(model, method, sparsities))


def make_permanent(model) -> None:
    """Fold the masks into the weights (``prune.remove``) so the model holds plain layers."""
    for layer in model.compute_layers():
        if prune.is_pruned(layer):
            prune.remove(layer, "weight")


def add_empty_masks(model, indices) -> None:
    """All-ones masks on the layers ``indices`` (so a pruned checkpoint's state dict loads)."""
    layers = model.compute_layers()
    for i in indices:
        if not prune.is_pruned(layers[i]):
            prune.custom_from_mask(layers[i], "weight", torch.ones_like(effective_weight(layers[i])))


def pruned_layers(model) -> list[int]:
    """Indices of the compute layers that carry a mask."""
    return [i for i, l in enumerate(model.compute_layers()) if prune.is_pruned(l)]


def layer_sparsity(model) -> list[float]:
    """Fraction of zero weights per compute layer."""
    return [float((effective_weight(l) == 0).float().mean()) for l in model.compute_layers()]
