"""fpgaflow.train.slim: the physically slimmed network exports smaller and computes the same outputs."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from brevitas_mlps import weight_codes
from fpgaflow.train.datasets import digits
from fpgaflow.train.export import export_onnx
from fpgaflow.train.pruning import PruneConfig
from fpgaflow.train.recipes import Recipe, build_model
from fpgaflow.train.slim import slim
from fpgaflow.train.trainer import TrainConfig, Trainer, predict
from qonnx_run import run_qonnx


@pytest.fixture(scope="module")
def data():
    return digits()


def train_pruned(recipe: Recipe, data, sparsity: float = 0.5):
    torch.manual_seed(0)
    model = build_model(recipe, data.image_shape, data.num_classes)
    Trainer(model, data, TrainConfig(epochs=1, threads=1),
            PruneConfig("filters", sparsity, "oneshot", finetune_epochs=1), progress=False).run()
    return model


def export_both(model, tmp_path):
    """Export the masked model (a copy) and its slimmed version; return both paths, the slim sizes,
    and the masked model's Brevitas forward function."""
    masked = copy.deepcopy(model)
    small, sizes = slim(model)
    masked_path = export_onnx(masked, tmp_path / "masked.onnx")
    slim_path = export_onnx(small, tmp_path / "slim.onnx")
    return masked, small, sizes, masked_path, slim_path


def assert_same_outputs(masked, masked_path, slim_path, x):
    ref = predict(masked, x)
    out_masked = run_qonnx(masked_path, x)
    out_slim = run_qonnx(slim_path, x)
    assert np.array_equal(out_slim, out_masked), f"max diff {np.abs(out_slim - out_masked).max()}"
    np.testing.assert_allclose(out_slim, ref, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(out_slim.argmax(1), ref.argmax(1))


def test_slim_mlp(tmp_path, data):
    model = train_pruned(Recipe(hidden=(32, 16), weight="int", weight_bits=4, act_bits=4), data)
    masked, small, sizes, masked_path, slim_path = export_both(model, tmp_path)
    assert sizes == [(32, 16), (16, 8)]
    assert small.recipe.hidden == (16, 8)

    big, thin = weight_codes(masked_path), weight_codes(slim_path)  # [in, out] per layer
    assert [c.shape for c in big] == [(64, 32), (32, 16), (16, 10)]
    assert [c.shape for c in thin] == [(64, 16), (16, 8), (8, 10)]
    # the kept channels are those the next layer reads; with the same scales the codes are a slice
    kept0 = np.flatnonzero(np.abs(big[1]).sum(1))
    kept1 = np.flatnonzero(np.abs(big[2]).sum(1))
    assert len(kept0) == 16 and len(kept1) == 8
    np.testing.assert_array_equal(thin[0], big[0][:, kept0])
    np.testing.assert_array_equal(thin[1], big[1][np.ix_(kept0, kept1)])
    np.testing.assert_array_equal(thin[2], big[2][kept1])

    assert_same_outputs(masked, masked_path, slim_path, data.x_test[:100].reshape(100, -1))


def test_slim_cnv(tmp_path, data):
    recipe = Recipe(arch="cnv", conv=(8, "M"), hidden=(16,), weight="int", weight_bits=4, act_bits=4)
    model = train_pruned(recipe, data)
    masked, small, sizes, masked_path, slim_path = export_both(model, tmp_path)
    assert sizes == [(8, 4), (16, 8)]
    assert small.recipe.conv == (4, "M") and small.recipe.hidden == (8,)

    big, thin = weight_codes(masked_path), weight_codes(slim_path)
    assert big[0].shape == (8, 1, 3, 3) and thin[0].shape == (4, 1, 3, 3)
    assert big[1].shape == (72, 16) and thin[1].shape == (36, 8)  # 3x3 pooled maps per channel
    assert thin[2].shape == (8, 10)
    live = np.flatnonzero(np.abs(big[1]).reshape(8, 9, 16).sum(axis=(1, 2)))  # channel-major flatten
    assert len(live) == 4
    np.testing.assert_array_equal(thin[0], big[0][live])
    cols = np.concatenate([np.arange(9 * c, 9 * c + 9) for c in live])
    kept1 = np.flatnonzero(np.abs(big[2]).sum(1))
    np.testing.assert_array_equal(thin[1], big[1][np.ix_(cols, kept1)])

    assert_same_outputs(masked, masked_path, slim_path, data.x_test[:100])


def test_slim_keeps_dead_channel_with_peak_weight(tmp_path, data):
    """A dead channel whose row holds the layer's largest |w| sets the weight scale: it must stay."""
    torch.manual_seed(0)
    model = build_model(Recipe(hidden=(16, 8), weight="int", weight_bits=4, act_bits=4), data.image_shape,
                        data.num_classes)
    Trainer(model, data, TrainConfig(epochs=1, threads=1), progress=False).run()
    l0, l1, _ = model.compute_layers()
    peak_channel, plain_dead = 3, 11
    with torch.no_grad():
        l1.weight[:, peak_channel] = 0  # both channels now feed nothing
        l1.weight[:, plain_dead] = 0
        l0.weight[peak_channel, 5] = 4 * float(l0.weight.abs().max())
    x = data.x_test[:100].reshape(100, -1)

    # the peak matters: zeroing that (dead) row changes the layer's scale and so the outputs
    without_peak = copy.deepcopy(model)
    with torch.no_grad():
        without_peak.compute_layers()[0].weight[peak_channel] = 0
    assert not np.allclose(predict(without_peak, x), predict(model, x), atol=1e-3)

    masked, small, sizes, masked_path, slim_path = export_both(model, tmp_path)
    assert sizes == [(16, 15), (8, 8)]  # the plain dead channel goes, the peak's stays
    thin = weight_codes(slim_path)
    assert thin[0].shape == (64, 15) and thin[1].shape == (15, 8)
    assert_same_outputs(masked, masked_path, slim_path, x)
