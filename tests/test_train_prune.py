"""fpgaflow.train pruning: schedules, magnitude and filter masks, sensitivity analysis."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from torch.nn.utils import prune as torch_prune

from fpgaflow.train import pruning
from fpgaflow.train.datasets import digits
from fpgaflow.train.pruning import PruneConfig, cubic_sparsity, layer_sparsity, magnitude_mask, prune_to
from fpgaflow.train.recipes import Recipe, build_model
from fpgaflow.train.sensitivity import Sensitivity, choose_sparsities, sensitivity, write_sensitivity
from fpgaflow.train.trainer import TrainConfig, Trainer, accuracy

MLP = Recipe(hidden=(32, 16), weight="int", weight_bits=4, act_bits=4)
CNV = Recipe(arch="cnv", conv=(8, "M"), hidden=(16,), weight="int", weight_bits=4, act_bits=4)


@pytest.fixture(scope="module")
def data():
    return digits()


def fresh(recipe: Recipe, data, seed: int = 0):
    torch.manual_seed(seed)
    return build_model(recipe, data.image_shape, data.num_classes)


@pytest.fixture(scope="module")
def trained_mlp(data):
    """A dense MLP after one epoch (tests deep-copy it before changing it)."""
    model = fresh(MLP, data)
    Trainer(model, data, TrainConfig(epochs=1, threads=1), progress=False).run()
    return model


def weights(model) -> list[np.ndarray]:
    return [l.weight.detach().numpy().copy() for l in model.compute_layers()]


@pytest.mark.parametrize("t, total, final, expected", [
    (0, 8, 0.8, 0.0),
    (8, 8, 0.8, 0.8),
    (20, 8, 0.8, 0.8),
    (4, 8, 0.8, 0.8 * (1 - 0.125)),
    (2, 8, 0.8, 0.8 * (1 - 0.75 ** 3)),
    (6, 8, 0.5, 0.5 * (1 - 0.25 ** 3)),
    (-1, 8, 0.5, 0.0),
])
def test_cubic_sparsity(t, total, final, expected):
    assert cubic_sparsity(t, total, final) == pytest.approx(expected, abs=1e-12)


def test_cubic_sparsity_initial():
    # Zhu & Gupta: s_t = s_f + (s_i - s_f) (1 - t/T)^3
    assert cubic_sparsity(0, 10, 0.9, initial=0.3) == pytest.approx(0.3)
    assert cubic_sparsity(5, 10, 0.9, initial=0.3) == pytest.approx(0.9 + (0.3 - 0.9) * 0.125)
    assert cubic_sparsity(10, 10, 0.9, initial=0.3) == pytest.approx(0.9)


def test_magnitude_mask_hand_example():
    w = torch.tensor([[0.3, -0.1, 0.05], [-0.7, 0.2, -0.02]])
    np.testing.assert_array_equal(magnitude_mask(w, 0.5).numpy(), [[1, 0, 0], [1, 1, 0]])
    np.testing.assert_array_equal(magnitude_mask(w, 0.0).numpy(), np.ones((2, 3)))


def test_oneshot_magnitude_prunes_smallest_dense_weights(data, monkeypatch):
    sparsity = 0.6
    model = fresh(MLP, data)
    seen = {}
    real_prune_to = pruning.prune_to

    def spy(model_, method, sparsities):
        seen.setdefault("dense", weights(model_))  # the weights at the first mask update
        seen.setdefault("sparsities", list(sparsities))
        return real_prune_to(model_, method, sparsities)

    monkeypatch.setattr(pruning, "prune_to", spy)
    trainer = Trainer(model, data, TrainConfig(epochs=1, threads=1),
                      PruneConfig("magnitude", sparsity, "oneshot", finetune_epochs=1), progress=False)
    trainer.run()
    assert seen["sparsities"] == [sparsity] * 3
    final = weights(model)
    for i, (dense, w) in enumerate(zip(seen["dense"], final)):
        k = round(sparsity * dense.size)
        assert int((w == 0).sum()) == k, f"layer {i}"
        order = np.argsort(np.abs(dense).ravel(), kind="stable")
        mags = np.sort(np.abs(dense).ravel())
        assert mags[k - 1] < mags[k]  # no tie at the threshold: the expected set is unique
        np.testing.assert_array_equal(np.flatnonzero(w.ravel() == 0), np.sort(order[:k]), err_msg=f"layer {i}")
        assert not np.array_equal(w[w != 0], dense[w != 0])  # the kept weights were fine-tuned
    assert trainer.history[-1]["phase"] == "prune"
    expected = [round(sparsity * d.size) / d.size for d in seen["dense"]]
    assert trainer.history[-1]["sparsity"] == pytest.approx(expected, abs=1e-6)  # 1e-6 < one weight


def test_gradual_schedule(data):
    final = 0.6
    model = fresh(MLP, data)
    config = PruneConfig("magnitude", final, "gradual", finetune_epochs=3, ramp_epochs=2, updates_per_epoch=4)
    trainer = Trainer(model, data, TrainConfig(epochs=1, threads=1), config, progress=False)
    trainer.run()
    sizes = [l.weight.numel() for l in model.compute_layers()]
    prune_records = [r for r in trainer.history if r["phase"] == "prune"]
    assert [r["epoch"] for r in prune_records] == [1, 2, 3]
    assert "sparsity" not in trainer.history[0]
    history = np.array([r["sparsity"] for r in prune_records])
    assert (np.diff(history, axis=0) >= 0).all()
    # the last update of ramp epoch 1 is at t = 1 of T = 2: s = 0.6 * (1 - 0.5 ** 3) = 0.525
    # (layer_sparsity is a float32 mean: compare within 1e-6, far less than one weight in 2,048)
    np.testing.assert_allclose(history[0], [round(0.525 * n) / n for n in sizes], rtol=0, atol=1e-6)
    np.testing.assert_allclose(history[1], [round(final * n) / n for n in sizes], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(history[2], history[1])
    zeros = [int((l.weight == 0).sum()) for l in model.compute_layers()]
    assert zeros == [round(final * n) for n in sizes]


def test_masks_only_grow(trained_mlp):
    import copy

    model = copy.deepcopy(trained_mlp)
    n = len(model.compute_layers())
    prune_to(model, "magnitude", [0.5] * n)
    zeros_half = [w == 0 for w in weights(model)]
    assert layer_sparsity(model) == [0.5] * n
    prune_to(model, "magnitude", [0.25] * n)
    model(torch.zeros((1,) + model.input_shape))  # (see test_second_prune_to_updates_weight_at_once)
    assert layer_sparsity(model) == [0.5] * n
    for before, w in zip(zeros_half, weights(model)):
        np.testing.assert_array_equal(w == 0, before)

    grow = copy.deepcopy(trained_mlp)
    prune_to(grow, "magnitude", [0.25] * n)
    quarter = [w == 0 for w in weights(grow)]
    prune_to(grow, "magnitude", [0.5] * n)
    for layer, q in zip(grow.compute_layers(), quarter):
        mask = layer.weight_mask.numpy()
        assert mask.mean() == 0.5
        assert (mask[q] == 0).all()  # the first quarter stays pruned
    grow(torch.zeros((1,) + grow.input_shape))
    assert layer_sparsity(grow) == [0.5] * n


def test_second_prune_to_updates_weight_at_once(trained_mlp):
    import copy

    model = copy.deepcopy(trained_mlp)
    n = len(model.compute_layers())
    prune_to(model, "magnitude", [0.25] * n)
    prune_to(model, "magnitude", [0.5] * n)
    assert layer_sparsity(model) == [0.5] * n


def test_filter_pruning_mlp(trained_mlp):
    import copy

    model = copy.deepcopy(trained_mlp)
    dense = weights(model)
    prune_to(model, "filters", [0.5, 0.25, 0.0])
    w0, w1, w2 = weights(model)
    # the rows of smallest L1 norm of each layer's own weights (numpy reference), whole
    rows0 = np.sort(np.argsort(np.abs(dense[0]).sum(1), kind="stable")[:16])
    rows1 = np.sort(np.argsort(np.abs(dense[1]).sum(1), kind="stable")[:4])
    zero_rows0 = np.flatnonzero((w0 == 0).all(1))
    np.testing.assert_array_equal(zero_rows0, rows0)
    assert (w0[np.setdiff1d(np.arange(32), rows0)] != 0).all()
    # layer 1: the columns fed by the pruned neurons, and its own 4 weakest rows
    kept_rows1 = np.flatnonzero(~(w1 == 0).all(1))
    assert len(kept_rows1) == 12
    np.testing.assert_array_equal(np.flatnonzero((w1[kept_rows1] == 0).all(0)), rows0)
    zero_rows1 = np.flatnonzero((w1 == 0).all(1))
    np.testing.assert_array_equal(zero_rows1, rows1)
    # output layer: no rows pruned, the columns of layer 1's pruned rows zero
    assert not (w2 == 0).all(1).any()
    np.testing.assert_array_equal(np.flatnonzero((w2 == 0).all(0)), zero_rows1)
    assert int((w2 == 0).sum()) == 10 * 4


def test_filter_pruning_conv_to_linear(data):
    model = fresh(CNV, data)
    Trainer(model, data, TrainConfig(epochs=1, threads=1), progress=False).run()
    conv, lin, out = model.compute_layers()
    assert tuple(conv.weight.shape) == (8, 1, 3, 3) and tuple(lin.weight.shape) == (16, 72)
    dense_conv = conv.weight.detach().numpy().copy()
    prune_to(model, "filters", [0.5, 0.0, 0.0])
    pruned = np.sort(np.argsort(np.abs(dense_conv).reshape(8, -1).sum(1), kind="stable")[:4])
    wc = conv.weight.detach().numpy()
    np.testing.assert_array_equal(np.flatnonzero((wc == 0).reshape(8, -1).all(1)), pruned)
    # after a 2x2 pool the 6x6 maps are 3x3: channel c feeds flattened columns 9c .. 9c+8
    wl = lin.weight.detach().numpy()
    expected_cols = np.concatenate([np.arange(9 * c, 9 * c + 9) for c in pruned])
    np.testing.assert_array_equal(np.flatnonzero((wl == 0).all(0)), expected_cols)
    assert int((wl == 0).sum()) == 16 * 36
    assert (out.weight.detach().numpy() != 0).all()


def test_channel_pruning_ranks_by_next_layer(data):
    """``channels``: the output channels whose columns in the next layer have the smallest L1 norm."""
    model = fresh(CNV, data)
    Trainer(model, data, TrainConfig(epochs=1, threads=1), progress=False).run()
    conv, lin, _ = model.compute_layers()
    dense_lin = lin.weight.detach().numpy().copy()  # (16, 72): channel c feeds columns 9c .. 9c+8
    prune_to(model, "channels", [0.5, 0.0, 0.0])
    usage = np.abs(dense_lin).reshape(16, 8, 9).sum(axis=(0, 2))
    pruned = np.sort(np.argsort(usage, kind="stable")[:4])
    wc = conv.weight.detach().numpy()
    np.testing.assert_array_equal(np.flatnonzero((wc == 0).reshape(8, -1).all(1)), pruned)
    wl = lin.weight.detach().numpy()
    np.testing.assert_array_equal(np.flatnonzero((wl == 0).all(0)),
                                  np.concatenate([np.arange(9 * c, 9 * c + 9) for c in pruned]))


def test_structured_pruning_refuses_a_binary_next_layer(data):
    model = fresh(Recipe(hidden=(16,), weight=("int", "binary"), weight_bits=(2, 1), act_bits=2), data)
    with pytest.raises(ValueError, match="layer 1: binarized"):
        Trainer(model, data, TrainConfig(epochs=1), PruneConfig("channels", (0.5, 0.0)), progress=False)


@pytest.mark.parametrize("kind, bits, act", [("binary", 1, 1), ("po2", 4, 4)])
def test_unprunable_layers(data, kind, bits, act):
    model = fresh(Recipe(hidden=(16,), weight=kind, weight_bits=bits, act_bits=act), data)
    with pytest.raises(ValueError, match="layer 0"):
        Trainer(model, data, TrainConfig(epochs=1), PruneConfig("magnitude", 0.5), progress=False)
    # the same kind is fine where that layer's sparsity is 0
    mixed = fresh(Recipe(hidden=(16,), weight=(kind, "int"), weight_bits=(bits, 2), act_bits=act), data)
    Trainer(mixed, data, TrainConfig(epochs=1), PruneConfig("magnitude", (0.0, 0.5)), progress=False)


@pytest.mark.parametrize("config, needle", [
    (PruneConfig("random", 0.5), "unknown pruning method"),
    (PruneConfig("magnitude", 0.5, "linear"), "unknown pruning schedule"),
    (PruneConfig("magnitude", (0.5, 0.5)), "2 values for 3 layers"),
    (PruneConfig("magnitude", 1.0), r"not in \[0, 1\)"),
    (PruneConfig("filters", (0.5, 0.5, 0.5)), "output layer"),
    (PruneConfig("magnitude", 0.5, finetune_epochs=0), "fine-tuning epoch"),
])
def test_prune_config_errors(config, needle):
    with pytest.raises(ValueError, match=needle):
        config.check(3)


def test_filter_default_spares_output_layer():
    assert PruneConfig("filters", 0.5).check(3) == [0.5, 0.5, 0.0]


def test_sensitivity_files(trained_mlp, data, tmp_path):
    import copy

    grid = (0.5, 0.9)
    table = sensitivity(trained_mlp, data.x_test, data.y_test, "magnitude", grid)
    assert sorted(table.accuracy) == [0, 1, 2]
    assert table.dense_accuracy == accuracy(trained_mlp, data.x_test, data.y_test)
    assert layer_sparsity(trained_mlp) == [0.0, 0.0, 0.0]  # the model itself stays dense
    # reference: torch's own L1 unstructured pruning of layer 0 alone
    for j, s in enumerate(grid):
        ref = copy.deepcopy(trained_mlp)
        torch_prune.l1_unstructured(ref.compute_layers()[0], "weight", amount=s)
        assert table.accuracy[0][j] == accuracy(ref, data.x_test, data.y_test)
    assert table.accuracy[0][1] < table.dense_accuracy  # 90% of the first layer hurts

    written = write_sensitivity(table, tmp_path / "sens")
    csv_path, png = tmp_path / "sens" / "sensitivity.csv", tmp_path / "sens" / "sensitivity.png"
    assert set(written) == {csv_path, png}
    rows = list(csv.reader(csv_path.open()))
    assert rows[0] == ["layer", "0.5", "0.9"]
    assert rows[1][0] == "dense" and float(rows[1][1]) == pytest.approx(table.dense_accuracy, abs=1e-4)
    assert [r[0] for r in rows[2:]] == ["layer0", "layer1", "layer2"]
    assert float(rows[2][2]) == pytest.approx(table.accuracy[0][1], abs=1e-4)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000


def test_sensitivity_filters_skips_output_layer(trained_mlp, data):
    table = sensitivity(trained_mlp, data.x_test[:100], data.y_test[:100], "filters", (0.5,))
    assert sorted(table.accuracy) == [0, 1]


def test_choose_sparsities():
    table = Sensitivity("magnitude", 0.9, (0.25, 0.5, 0.7, 0.9),
                        {0: [0.9, 0.89, 0.85, 0.5],     # drops 0, .01, .05, .4
                         2: [0.885, 0.80, 0.7, 0.6],    # drops .015, .1, ...
                         3: [0.7, 0.6, 0.5, 0.4],       # nothing within the drop
                         4: [0.7, 0.895, 0.6, 0.89]})   # not monotone: 0.9 is still within
    assert choose_sparsities(table, 6, 0.02) == [0.5, 0.0, 0.25, 0.0, 0.9, 0.0]
    assert choose_sparsities(table, 6, 0.06) == [0.7, 0.0, 0.25, 0.0, 0.9, 0.0]
    assert choose_sparsities(table, 6, 0.5) == [0.9, 0.0, 0.9, 0.9, 0.9, 0.0]
