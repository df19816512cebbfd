"""Physical removal of pruned neurons and channels: the smaller network, not a masked one.

A hidden channel (neuron or conv filter) whose outgoing weights are all zero feeds nothing: it is
deleted from its layer (weight rows, BatchNorm entries) and from the next layer's inputs, which
leaves every output unchanged. One exception keeps the result exact: Brevitas derives a layer's
weight scale from its largest weight magnitude, so the channel holding that maximum stays.
"""

from __future__ import annotations

import copy
import logging

import torch
from torch import nn

from fpgaflow.train import pruning
from fpgaflow.train.quantizers import freeze_po2_snap
from fpgaflow.train.recipes import POOL, QuantNet, build_model
from fpgaflow.train.trainer import restore_stats_state, stats_state

log = logging.getLogger(__name__)


def dead_channels(model: QuantNet, index: int) -> torch.Tensor:
    """Output channels of compute layer ``index`` that the next layer gives only zero weights."""
    layers = model.compute_layers()
    layer, nxt = layers[index], layers[index + 1]
    kinds = [k for k, _, _ in model.recipe.per_layer()]
    if kinds[index + 1] == "binary":
        return torch.zeros(0, dtype=torch.long)  # +-1 weights are never zero
    used = pruning.channel_norms(layer, nxt)
    return torch.nonzero(used == 0).flatten()


def kept_channels(model: QuantNet) -> list[torch.Tensor]:
    """Per hidden compute layer, the channels that stay (see the module docstring)."""
    layers = model.compute_layers()
    kept = []
    for i, layer in enumerate(layers[:-1]):
        w = layer.weight.detach()
        rows = w.abs().reshape(w.shape[0], -1)
        dead = set(dead_channels(model, i).tolist())
        keep = [c for c in range(w.shape[0]) if c not in dead]
        peak = int(torch.argmax(rows.max(1).values))
        if peak in dead and (not keep or rows[keep].max() < rows[peak].max()):
            keep = sorted(keep + [peak])  # its weight sets the layer's scale
        kept.append(torch.tensor(keep, dtype=torch.long))
    return kept


def slim(model: QuantNet) -> tuple[QuantNet, list[tuple[int, int]]]:
    """A copy of ``model`` without its dead channels, and (before, after) widths per hidden layer.

    The model may carry pruning masks and power-of-two snapping; both are made permanent in the
    copy first. The result computes the same outputs as ``model``.
    """
    src = copy.deepcopy(model).eval()
    pruning.make_permanent(src)
    freeze_po2_snap(src)
    kept = kept_channels(src)
    recipe = copy.deepcopy(src.recipe)
    widths = iter(len(k) for k in kept)
    recipe.conv = tuple(c if c == POOL else next(widths) for c in recipe.conv)
    recipe.hidden = tuple(next(widths) for _ in recipe.hidden)
    out = build_model(recipe, src.input_shape, src.num_classes)
    freeze_po2_snap(out)
    out.load_state_dict(_sliced_state(src, kept))
    restore_stats_state(out, stats_state(src))
    out.eval()
    sizes = [(l.weight.shape[0], len(k)) for l, k in zip(src.compute_layers(), kept)]
    for i, (before, after) in enumerate(sizes):
        if after < before:
            log.info("layer %d: removed %d of %d channels", i, before - after, before)
    return out, sizes


def _sliced_state(src: QuantNet, kept: list[torch.Tensor]) -> dict:
    """``src``'s state dict with the removed channels cut out of every tensor they appear in."""
    layers = src.compute_layers()
    roles: dict[str, tuple[str, int]] = {}  # body prefix -> (role, compute layer index)
    index = -1
    for k, module in enumerate(src.body):
        if any(module is l for l in layers):
            index += 1
            roles[f"body.{k}."] = ("compute", index)
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            roles[f"body.{k}."] = ("bn", index)
    state = {}
    for key, value in src.state_dict().items():
        prefix = next((p for p in roles if key.startswith(p)), None)
        if prefix is None or key.endswith("num_batches_tracked"):
            state[key] = value
            continue
        role, i = roles[prefix]
        local = key[len(prefix):]
        if role == "bn":
            state[key] = value[kept[i]]
        elif local == "weight":
            if i < len(kept):
                value = value[kept[i]]
            if i > 0:
                value = value.index_select(1, pruning.input_positions(layers[i - 1], layers[i], kept[i - 1]))
            state[key] = value
        elif local == "bias" and i < len(kept):
            state[key] = value[kept[i]]
        else:
            state[key] = value
    return state
