"""Brevitas MLPs trained on scikit-learn digits build and match execute_onnx and Brevitas."""

import numpy as np
import pytest
import torch

from brevitas_mlps import digits_data, make_mlp_with_model
from conftest import build_model, csim_vs_reference
from fpgaflow.csim import run_csim

CASES = [
    ("w4a4_bias", True),   # 8-bit input, 4-bit weights with bias, 4-bit ReLU
    ("w4a4_bn", True),     # ... with BatchNorm
    ("w2a2", True),        # 2-bit weights and activations
    ("binary", True),      # bipolar weights and activations
    ("w4a4_bn", False),    # Brevitas' default float (not power-of-two) scales
    ("binary", False),
]


@pytest.mark.parametrize("kind, po2", CASES, ids=[f"{k}-{'po2' if p else 'float'}" for k, p in CASES])
def test_digits_mlp_bit_exact(tmp_path, kind, po2):
    onnx_path, model = make_mlp_with_model(kind, tmp_path, seed=0, po2_scales=po2)
    report = build_model(onnx_path, tmp_path / "build")
    result = csim_vs_reference(onnx_path, tmp_path / "build", n=1000)
    assert result["integers_equal"] and result["ints_equal"], result  # every stream and the logits' integers
    assert result["argmax_mismatches"] == 0
    assert result["max_abs_diff"] <= result["tolerance"], result
    if po2:  # power-of-two scales: the host replays the reference's float32 output exactly
        assert result["bit_exact"] and result["float_identical"], result
    else:  # float scales: the last layer's float32 sums round in the reference's own order
        assert result["bit_exact"] == result["float_identical"]

    # the accelerator classifies the digits test set like Brevitas' own forward pass
    _, _, x_test, y_test = digits_data()
    got = run_csim(tmp_path / "build", x_test).outputs
    with torch.no_grad():
        want = model(torch.from_numpy(x_test)).numpy()
    assert np.array_equal(got.argmax(1), want.argmax(1))
    assert (got.argmax(1) == y_test).mean() > 0.8

    mvaus = [layer for layer in report["layers"] if layer["kind"] == "mvau"]
    # 8-bit input into bipolar weights: sign selects (ternary); 2-bit narrow weights are {-1, 0, 1}
    expected = {"binary": ["ternary", "xnor", "xnor"], "w2a2": ["ternary"] * 3}.get(kind, ["mac"] * 3)
    assert [layer["arith"] for layer in mvaus] == expected


def test_hw_types_build_agrees_with_fast_csim(tmp_path):
    """Exact-width ap_int everywhere (as synthesis sees it) gives the same integers."""
    onnx_path, _ = make_mlp_with_model("w4a4_bn", tmp_path, seed=0)
    build_model(onnx_path, tmp_path / "build")
    x = np.random.default_rng(3).normal(size=(300, 64)).astype(np.float32) * 2
    fast = run_csim(tmp_path / "build", x)
    exact = run_csim(tmp_path / "build", x, hw_types=True)
    assert np.array_equal(fast.ints, exact.ints)


def test_hw_types_xnor_agrees_with_fast_csim(tmp_path):
    onnx_path, _ = make_mlp_with_model("binary", tmp_path, seed=0)
    build_model(onnx_path, tmp_path / "build", target_fps=2_000_000)
    x = np.random.default_rng(4).normal(size=(300, 64)).astype(np.float32)
    assert np.array_equal(run_csim(tmp_path / "build", x).ints, run_csim(tmp_path / "build", x, hw_types=True).ints)
