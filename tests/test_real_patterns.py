"""Patterns of real-world QONNX exports build bit-exact against execute_onnx on 500 inputs.

Each model comes from :mod:`edge_models` (Brevitas exports, one onnx edit for the annotated
input). The build's own check runs the C simulation and ``execute_onnx(...,
return_full_exec_context=True)`` on 500 inputs: the integer codes on every accelerator stream
that carries a reference tensor, and the last layer's integers, must be identical
(``np.array_equal``), and so must the final float outputs. The test then re-checks the final
outputs itself against execute_onnx on fresh inputs, with the driver's numpy host edges too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import edge_models
from fpgaflow.boards import load_board
from fpgaflow.build import BuildOptions, build
from conftest import build_model
from fpgaflow.csim import Design, run_csim
from fpgaflow.rtlsim import run_rtlsim
from fpgaflow.streamio.host_ops import TOLERANCE
from fpgaflow.frontend.reference import Reference
from fpgaflow.verify import random_inputs
from test_driver import load_driver
from test_errors import assert_user_error, run_cli

SAMPLES = 500
FAST = ["mlp_softmax", "qkeras_style_softmax", "annotated_bipolar_input_mlp", "qcdq_mlp", "conv1d_net",
        "trunc_avgpool_net", "binarized_tied_logits_mlp"]


def build_checked(path, out_dir) -> dict:
    options = BuildOptions(board=load_board("pynq-z2"), out_dir=out_dir, csim=True, csim_samples=SAMPLES)
    return build(path, options)


@dataclass
class Built:
    path: Path
    out: Path
    report: dict


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """``built(name)``: the model made by ``edge_models.BUILDERS[name]`` and its checked build, once per worker.

    The tests of one model share an ``xdist_group`` (:func:`group`), so each model is built once.
    """
    cache: dict[str, Built] = {}

    def get(name: str) -> Built:
        if name not in cache:
            root = tmp_path_factory.mktemp(name)
            path = edge_models.BUILDERS[name](root)
            cache[name] = Built(path, root / "build", build_checked(path, root / "build"))
        return cache[name]

    return get


def group(name: str):
    return pytest.mark.xdist_group(f"real_pattern_{name}")


def assert_bit_exact(report: dict, min_streams: int) -> None:
    csim = report["csim"]
    assert csim["samples"] == SAMPLES
    assert csim["streams_equal"] and len(csim["streams_checked"]) >= min_streams, csim
    assert csim["ints_equal"] is not False and csim["integers_equal"], csim
    assert csim["float_identical"] and csim["max_abs_diff"] == 0.0, csim
    assert csim["bit_exact"], csim


def assert_outputs_identical(path, build_dir, n: int = 40, seed: int = 7) -> None:
    """Fresh inputs: the C simulation's outputs equal execute_onnx's, sample by sample."""
    design = Design(build_dir)
    x = random_inputs(design.input_shape, n, seed, dtype=design.host_in.dtype)
    ref, _ = Reference(path).run(x)
    got = run_csim(build_dir, x).outputs
    assert np.array_equal(ref.reshape(got.shape), got)


@pytest.mark.parametrize("name", [pytest.param(n, marks=group(n)) for n in FAST])
def test_pattern_builds_bit_exact(built, name):
    b = built(name)
    assert_bit_exact(b.report, min_streams=2)
    assert_outputs_identical(b.path, b.out)


@group("mlp_softmax")
def test_softmax_tail_runs_on_the_host_and_in_the_driver(built):
    b = built("mlp_softmax")
    host = onnx.load(str(b.out / "host" / "output.onnx"))
    assert [n.op_type for n in host.graph.node][-1] == "Softmax"
    design = Design(b.out)
    x = random_inputs(design.input_shape, 20, seed=3)
    got = load_driver(b.out).Accelerator(backend="csim").execute(x)
    ref, _ = Reference(b.path).run(x)
    np.testing.assert_allclose(got, ref, **TOLERANCE["Softmax"])  # numpy's exp vs onnxruntime's
    assert np.array_equal(got.argmax(1), ref.argmax(1))


@group("conv1d_net")
def test_conv1d_keeps_the_models_input_shape(built):
    design = Design(built("conv1d_net").out)
    assert design.input_shape == [1, 8, 64]
    assert design.meta["streams"]["in"]["shape"] == [1, 8, 64, 1]


@group("trunc_avgpool_net")
def test_trunc_becomes_a_thresholding_layer(built):
    kinds = [layer["kind"] for layer in built("trunc_avgpool_net").report["layers"]]
    assert "sumpool" in kinds and "thresholding" in kinds, kinds


@group("annotated_bipolar_input_mlp")
def test_annotated_input_rejects_values_outside_its_datatype(built, tmp_path):
    b = built("annotated_bipolar_input_mlp")
    np.save(tmp_path / "x.npy", np.full((2, 600), 0.5, dtype=np.float32))
    rc, err = run_cli("csim", b.out, "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy")
    assert_user_error(rc, err, "BIPOLAR", "0.5")


def test_qcdq_with_a_nonzero_zero_point_is_refused(tmp_path):
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], name="QuantizeLinear_0"),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["xq"], name="DequantizeLinear_0"),
             helper.make_node("MatMul", ["xq", "w"], ["y"], name="MatMul_0")]
    inits = [numpy_helper.from_array(np.array(0.05, np.float32), "s"), numpy_helper.from_array(np.array(3, np.uint8), "z"),
             numpy_helper.from_array(np.ones((4, 2), np.float32), "w")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])], initializer=inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(tmp_path / "zp.onnx"))
    rc, err = run_cli("build", tmp_path / "zp.onnx", "--out", tmp_path / "out", "--quiet")
    assert_user_error(rc, err, "(QuantizeLinear)", "zero point")


@pytest.mark.slow
@pytest.mark.usefixtures("verilator_required")
@pytest.mark.parametrize("name", ["cnv_1w1a", "cnv_2w2a"])
def test_finn_cnv_rtlsim_bit_exact_at_the_predicted_ii(tmp_path, name):
    """FINN's CIFAR-10 CNV (random weights, calibrated BatchNorm) through Verilator on 20 frames:
    outputs equal the C simulation's under back-pressure, II as the cycle simulator predicts."""
    path = edge_models.BUILDERS[name](tmp_path)
    build_model(path, tmp_path / "build", rtl=True)
    result = run_rtlsim(tmp_path / "build", 20)
    assert result["bit_exact"] and result["tlast_ok"], result
    assert result["ii"] == result["predicted"]["ii"], result


@pytest.mark.slow
def test_finn_cnv_1w1a_builds_bit_exact(tmp_path):
    path = edge_models.cnv_1w1a(tmp_path)
    report = build_checked(path, tmp_path / "build")
    assert_bit_exact(report, min_streams=8)
