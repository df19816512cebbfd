"""Convolutional networks (Brevitas, digits 1x8x8) build and match execute_onnx and Brevitas."""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from brevitas_cnns import make_cnn_with_model
from brevitas_mlps import digits_data
from conftest import build_model, csim_vs_reference
from fpgaflow.cli import main
from fpgaflow.csim import run_csim
from fpgaflow.rtlsim import run_rtlsim

SUPPORTED = ["cnv_w2a2", "cnv_w1a1", "cnv_po2", "cnv_sparse90", "depthwise_separable", "strided_padded", "residual",
             "concat_avgpool"]
#: Layer kinds each network must be built from (besides sliding windows and matrix-vector units).
EXPECTED_KINDS = {"depthwise_separable": {"vvau", "maxpool"}, "strided_padded": {"sumpool"},
                  "residual": {"duplicate", "add", "thresholding", "maxpool"},
                  "concat_avgpool": {"duplicate", "concat", "sumpool"}}


#: Variants the default run covers elsewhere (po2 and sparse MLPs, the CNV in 1W1A): the slow pass builds them.
SLOW_KINDS = {"cnv_po2", "cnv_sparse90", "cnv_w2a2"}


@pytest.mark.parametrize("kind", [pytest.param(k, marks=[pytest.mark.slow] if k in SLOW_KINDS else []) for k in SUPPORTED])
def test_cnn_bit_exact(tmp_path, kind):
    onnx_path, model = make_cnn_with_model(kind, tmp_path, seed=0)
    report = build_model(onnx_path, tmp_path / "build", sparse_threshold=0.75)
    result = csim_vs_reference(onnx_path, tmp_path / "build", n=500)
    assert result["bit_exact"], result
    _, _, x_test, _ = digits_data()
    x_test = x_test.reshape(-1, 1, 8, 8)
    with torch.no_grad():
        want = model(torch.from_numpy(x_test)).numpy()
    got = run_csim(tmp_path / "build", x_test).outputs
    assert np.array_equal(got.argmax(1), want.argmax(1))
    kinds = [layer["kind"] for layer in report["layers"]]
    assert "sliding_window" in kinds and "mvau" in kinds
    assert EXPECTED_KINDS.get(kind, {"maxpool"}) <= set(kinds)
    if kind == "cnv_w1a1":
        assert [l["arith"] for l in report["layers"] if l["kind"] == "mvau"][1:-1] == ["xnor"] * 2


#: The six CNNs of issue 17 through Verilator; the depthwise-separable one (a FIFO of the sized depth
#: goes full behind its bottleneck pooling window) in the default run, the others in the slow pass.
RTL_KINDS = ["depthwise_separable", "cnv_w1a1", "cnv_w2a2", "strided_padded", "residual", "concat_avgpool"]


@pytest.mark.usefixtures("verilator_required")
@pytest.mark.parametrize("kind", [pytest.param(k, marks=[] if k == "depthwise_separable" else [pytest.mark.slow])
                                  for k in RTL_KINDS])
def test_cnn_rtlsim_bit_exact_at_the_predicted_timing(tmp_path, kind):
    """``build --rtl`` and ``rtlsim`` on 200 frames: outputs equal the C simulation's under output
    back-pressure, and the II and latency Verilator measures equal the cycle simulator's."""
    onnx_path, _ = make_cnn_with_model(kind, tmp_path, seed=0)
    build_model(onnx_path, tmp_path / "build", sparse_threshold=0.75, rtl=True)
    result = run_rtlsim(tmp_path / "build", 200)
    assert result["bit_exact"] and result["tlast_ok"], result
    assert (result["ii"], result["latency"]) == (result["predicted"]["ii"], result["predicted"]["latency"]), result


@pytest.mark.usefixtures("verilator_required")
def test_rtlsim_names_a_deadlock(tmp_path):
    """The residual CNN with its skip FIFO cut to one token (graph.json edited) deadlocks in RTL:
    ``rtlsim`` stops once no token moves and exits 2 naming the duplicate waiting for room there."""
    onnx_path, _ = make_cnn_with_model("residual", tmp_path, seed=0)
    build = tmp_path / "build"
    build_model(onnx_path, build, rtl=True)
    graph = json.loads((build / "graph.json").read_text())
    (skip,) = [s for s in graph["streams"] if s["consumer"] == "Add_0" and s["producer"].endswith("_dup0")]
    skip["depth"] = 1
    (build / "graph.json").write_text(json.dumps(graph))
    result = CliRunner().invoke(main, ["rtlsim", str(build), "--frames", "5"])
    assert result.exit_code == 2, result.output
    assert "the RTL deadlocks" in result.output
    assert f"{skip['producer']} waits for room on {skip['name']}" in result.output
    report = json.loads((build / "rtlsim.json").read_text())["deadlock"]
    assert {"layer": skip["producer"], "waiting_for": "room", "waiting_on": skip["name"]} in report["blocked"]


def test_conv_with_bias_is_bit_exact(tmp_path):
    """A Conv's bias input (Brevitas QuantConv2d's default) is split into an Add by qonnx."""
    import onnx_builders

    model = onnx_builders.conv_model(tmp_path / "conv_bias.onnx", bias=True)
    build_model(model, tmp_path / "build")
    result = csim_vs_reference(model, tmp_path / "build", n=300)
    assert result["bit_exact"], result


def test_padded_biased_then_strided_conv_is_bit_exact(tmp_path):
    import onnx_builders

    model = onnx_builders.padded_strided_conv_model(tmp_path / "convs.onnx")
    report = build_model(model, tmp_path / "build")
    result = csim_vs_reference(model, tmp_path / "build", n=300)
    assert result["bit_exact"], result
    assert [l["kind"] for l in report["layers"] if l["kind"] != "width_converter"] == \
        ["sliding_window", "mvau", "sliding_window", "mvau"]


def test_pad_nodes_merge_into_windows(tmp_path):
    """Explicit Pad nodes (before a Conv and before a MaxPool) become the windows' padding."""
    import onnx_builders

    model = onnx_builders.pad_model(tmp_path / "pad.onnx")
    report = build_model(model, tmp_path / "build")
    result = csim_vs_reference(model, tmp_path / "build", n=300)
    assert result["bit_exact"], result
    windows = [l for l in report["layers"] if l["kind"] == "sliding_window"]
    assert len(windows) == 2  # the 1x1 conv reads the pooled map directly


def test_residual_add_aligns_power_of_two_scales(tmp_path):
    """Branch scales 1/4 and 1: the add shifts the coarser codes left by 2 before adding."""
    import onnx_builders

    model = onnx_builders.scaled_add_model(tmp_path / "add.onnx", branch_scale=0.25)
    report = build_model(model, tmp_path / "build")
    result = csim_vs_reference(model, tmp_path / "build", n=300)
    assert result["bit_exact"], result
    assert [l["kind"] for l in report["layers"]].count("add") == 1


def test_depthwise_hardware_types_agree(tmp_path):
    """The vector unit with exact-width ap types (as synthesis sees it) equals the fast C simulation;
    unsigned 4-bit activations must not be stored in a signed 4-bit type."""
    from brevitas_cnns import make_cnn

    model = make_cnn("depthwise_separable", tmp_path, seed=0)
    build_model(model, tmp_path / "build")
    x = np.random.default_rng(0).random((50, 1, 8, 8)).astype(np.float32)
    fast = run_csim(tmp_path / "build", x).ints
    exact = run_csim(tmp_path / "build", x, hw_types=True).ints
    assert np.array_equal(fast, exact)
