"""fpgaflow.train recipes: each weight quantizer trains, exports to QONNX and runs the same in qonnx."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from brevitas_mlps import weight_codes
from qonnx_run import run_qonnx, run_qonnx_per_sample
from fpgaflow.train.datasets import digits
from fpgaflow.train.export import export_onnx
from fpgaflow.train.recipes import Recipe, build_model
from fpgaflow.train.trainer import TrainConfig, Trainer, predict


@pytest.fixture(scope="module")
def data():
    return digits()


def train(recipe: Recipe, data, epochs: int = 1, seed: int = 0):
    torch.manual_seed(seed)
    model = build_model(recipe, data.image_shape, data.num_classes)
    Trainer(model, data, TrainConfig(epochs=epochs, threads=1, seed=seed), progress=False).run()
    return model


def brevitas_int_weights(model) -> list[np.ndarray]:
    """Brevitas' own integer weights per compute layer (``quant_weight().int()``)."""
    out = []
    for layer in model.compute_layers():
        with torch.no_grad():
            out.append(layer.quant_weight().int().numpy().astype(np.int64))
    return out


def check_outputs(path, model_out: np.ndarray, x: np.ndarray, atol: float = 1e-4) -> np.ndarray:
    onnx_out = run_qonnx(path, x)
    assert onnx_out.shape == model_out.shape
    np.testing.assert_allclose(onnx_out, model_out, rtol=0, atol=atol)
    np.testing.assert_array_equal(onnx_out.argmax(1), model_out.argmax(1))
    return onnx_out


KINDS = {
    # kind: (weight bits, activation bits, allowed codes)
    "binary": (1, 1, {-1, 1}),
    "ternary": (2, 2, {-1, 0, 1}),
    "po2": (4, 4, {0, 1, -1, 2, -2, 4, -4}),
    "int": (4, 4, set(range(-7, 8))),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_mlp_weight_kind(tmp_path, data, kind):
    bits, act, allowed = KINDS[kind]
    recipe = Recipe(hidden=(32, 16), weight=kind, weight_bits=bits, act_bits=act)
    model = train(recipe, data)
    x = data.x_test[:50].reshape(50, -1)
    before = predict(model, x)  # the trained network (masks and po2 snapping not yet frozen)
    assert float((before.argmax(1) == data.y_test[:50]).mean()) > 0.3  # it learned something
    path = export_onnx(model, tmp_path / f"{kind}.onnx")

    codes = weight_codes(path)
    assert [c.shape for c in codes] == [(64, 32), (32, 16), (16, 10)]
    for i, c in enumerate(codes):
        values = set(np.unique(c).tolist())
        assert values <= allowed, f"layer {i}: codes {sorted(values)}"
        if kind == "binary":
            assert values == {-1, 1}
        elif kind == "ternary":
            assert {-1, 1} <= values
        elif kind == "po2":
            assert np.abs(c).max() == 4, f"layer {i}: the largest power of two is not code 4"
    if kind != "binary":
        for i, (c, ref) in enumerate(zip(codes, brevitas_int_weights(model))):
            np.testing.assert_array_equal(c, ref.T, err_msg=f"layer {i}")

    check_outputs(path, before, x)
    np.testing.assert_array_equal(predict(model, x), before)  # freezing for export changed nothing


def test_batched_equals_per_sample(tmp_path, data):
    model = train(Recipe(hidden=(16,), weight_bits=3, act_bits=3), data)
    path = export_onnx(model, tmp_path / "m.onnx")
    x = data.x_test[100:106].reshape(6, -1)
    np.testing.assert_array_equal(run_qonnx(path, x), run_qonnx_per_sample(path, x))


CNVS = {
    "int4": Recipe(arch="cnv", conv=(8, "M"), hidden=(16,), weight="int", weight_bits=4, act_bits=4),
    "mixed": Recipe(arch="cnv", conv=(8, 8, "M"), hidden=(16,), weight=("ternary", "int", "po2", "int"),
                    weight_bits=(2, 3, 4, 4), act_bits=(2, 3, 4)),
}


@pytest.mark.parametrize("name", list(CNVS))
def test_cnv(tmp_path, data, name):
    recipe = CNVS[name]
    model = train(recipe, data)
    assert model.input_shape == (1, 8, 8)
    x = data.x_test[:50]
    before = predict(model, x)
    assert float((before.argmax(1) == data.y_test[:50]).mean()) > 0.3
    path = export_onnx(model, tmp_path / f"{name}.onnx")
    check_outputs(path, before, x)

    codes = weight_codes(path)
    convs = [c for c in recipe.conv if c != "M"]
    assert codes[0].shape == (convs[0], 1, 3, 3)
    allowed = {"ternary": {-1, 0, 1}, "po2": {0, 1, -1, 2, -2, 4, -4}}
    for c, (kind, bits, _) in zip(codes, recipe.per_layer()):
        limit = 2 ** (bits - 1) - 1
        assert np.abs(c).max() <= limit
        if kind in allowed:
            assert set(np.unique(c).tolist()) <= allowed[kind]
    for c, ref in zip(codes, brevitas_int_weights(model)):
        np.testing.assert_array_equal(c if c.ndim == 4 else c.T, ref)


@pytest.mark.parametrize("recipe, needle", [
    (Recipe(hidden=(16,), weight="binary", weight_bits=2, act_bits=1), "binary weights are 1-bit"),
    (Recipe(hidden=(16,), weight="int", weight_bits=9), "2 to 8 bits"),
    (Recipe(hidden=(16,), weight="int", weight_bits=1), "2 to 8 bits"),
    (Recipe(hidden=(16,), weight="ternary", weight_bits=3), "ternary weights are 2-bit"),
    (Recipe(hidden=(16,), weight="po2", weight_bits=8), "power-of-two"),
    (Recipe(hidden=(16,), weight="foo"), "unknown weight quantizer 'foo'"),
    (Recipe(hidden=(16, 8), weight_bits=(2, 2)), "weight bits: 2 values for 3 layers"),
    (Recipe(hidden=(16, 8), weight=("int", "int", "int", "int")), "weight: 4 values for 3 layers"),
    (Recipe(hidden=(16, 8), act_bits=(2, 2, 2)), "activation bits: 3 values for 2 layers"),
    (Recipe(hidden=(16,), act_bits=9), "activation bits must be 1 to 8"),
    (Recipe(arch="cnv", conv=(8, 8, "M", 8), hidden=(16,)), "shrink"),
    (Recipe(arch="resnet"), "unknown architecture"),
], ids=["binary-2bit", "int-9bit", "int-1bit", "ternary-3bit", "po2-8bit", "unknown-kind", "bits-length",
        "kinds-length", "act-length", "act-9bit", "cnv-too-deep", "arch"])
def test_recipe_errors(recipe, needle):
    with pytest.raises(ValueError, match=needle):
        build_model(recipe, (1, 8, 8), 10)
