"""Shift-add, ternary and sparse layers, and pruned neurons, on Brevitas MLPs trained on digits."""

import json
import re

import numpy as np
import pytest

from brevitas_mlps import make_mlp_with_model, weight_codes
from conftest import build_model, csim_vs_reference
from fpgaflow.layers.mvau import DEFAULT_SPARSE_THRESHOLD


def expected_arith(codes: np.ndarray) -> str:
    """What the ONNX file's integer weight codes allow, most specialised first."""
    nz = np.abs(codes[codes != 0]).astype(np.int64)
    if np.all(nz <= 1):
        return "ternary"
    if np.all((nz & (nz - 1)) == 0):
        return "shift"
    return "mac"


def mvau_rows(report):
    return [layer for layer in report["layers"] if layer["kind"] == "mvau"]


@pytest.mark.parametrize("kind, threshold", [("po2", DEFAULT_SPARSE_THRESHOLD), ("ternary", DEFAULT_SPARSE_THRESHOLD),
                                              ("pruned50", 0.5), ("pruned90", DEFAULT_SPARSE_THRESHOLD)])
def test_variant_bit_exact_with_expected_arith(tmp_path, kind, threshold):
    onnx_path, _ = make_mlp_with_model(kind, tmp_path, seed=0)
    report = build_model(onnx_path, tmp_path / "build", sparse_threshold=threshold)
    result = csim_vs_reference(onnx_path, tmp_path / "build", n=1000)
    assert result["bit_exact"], result
    codes = weight_codes(onnx_path)
    rows = mvau_rows(report)
    assert [r["arith"] for r in rows] == [expected_arith(c) for c in codes]
    assert [r["sparse"] for r in rows] == [bool(np.mean(c == 0) >= threshold) for c in codes]
    if kind == "po2":
        assert any(r["arith"] == "shift" for r in rows)
    if kind == "pruned90":
        assert all(r["sparse"] for r in rows)


def test_shift_layer_has_no_multiplier(tmp_path):
    onnx_path, _ = make_mlp_with_model("po2", tmp_path, seed=0)
    report = build_model(onnx_path, tmp_path / "build")
    hls = tmp_path / "build" / "hls"
    config = (hls / "config.h").read_text()
    kernels = (hls / "fpgaflow" / "mvau.h").read_text()
    body = re.search(r"struct mul_shift \{(.*?)\n\};", kernels, re.S).group(1)
    assert "*" not in body.replace("/*", "").replace("*/", "")
    shift_layers = [r for r in mvau_rows(report) if r["arith"] == "shift"]
    assert shift_layers
    for r in shift_layers:
        struct = re.search(r"struct %s_config[^{]*\{(.*?)\n\};" % r["name"], config, re.S).group(1)
        assert re.search(r"typedef fpgaflow::mul_shift<\d+> product;", struct)
        assert r["dsp"] == 0


def test_pruned_neurons_are_removed(tmp_path):
    onnx_path, _ = make_mlp_with_model("neuron_pruned", tmp_path, seed=0)
    report = build_model(onnx_path, tmp_path / "build")
    result = csim_vs_reference(onnx_path, tmp_path / "build", n=1000)
    assert result["bit_exact"], result
    w0, w1, w2 = weight_codes(onnx_path)  # [in, out]
    dead_0 = np.all(w0 == 0, axis=0) | np.all(w1 == 0, axis=1)  # constant or unused hidden-1 neurons
    dead_1 = np.all(w1 == 0, axis=0) | np.all(w2 == 0, axis=1)
    rows = mvau_rows(report)
    assert dead_0.any() and dead_1.any()
    assert rows[0]["mh"] == w0.shape[1] - dead_0.sum()
    assert rows[1]["mw"] == rows[0]["mh"]
    assert rows[1]["mh"] == w1.shape[1] - dead_1.sum()
    assert rows[2]["mw"] == rows[1]["mh"]
    written = json.loads((tmp_path / "build" / "report.json").read_text())
    assert [r["mh"] for r in mvau_rows(written)] == [r["mh"] for r in rows]


def test_override_that_cannot_be_exact_exits_2(tmp_path):
    import subprocess
    import sys

    onnx_path, _ = make_mlp_with_model("w4a4_bn", tmp_path, seed=0)
    proc = subprocess.run([sys.executable, "-m", "fpgaflow", "build", str(onnx_path), "--out", str(tmp_path / "o"),
                           "--quiet", "--arith", "MatMul_0=shift"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "MatMul_0" in proc.stderr and "power of two" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
