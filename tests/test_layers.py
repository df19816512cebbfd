"""Layer kits: threshold search, folding invariance, and the C++ kernels against their references."""

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.util.cleanup import cleanup_model

from conftest import build_model, csim_vs_reference
from fpgaflow.boards import load_board
from fpgaflow.codegen.compile import compile_csim
from fpgaflow.codegen.hls import write_hls
from fpgaflow.csim import _run
from fpgaflow.frontend.float_exec import FloatGraph
from fpgaflow.ir import HardwareGraph, IntSpec
from fpgaflow.layers.mvau import MatrixVectorUnit
from fpgaflow.layers.thresholding import ThresholdTable, Thresholding
from fpgaflow.passes.folding import insert_width_converters
from fpgaflow.passes.thresholds import ActivationChain, derive_thresholds

QONNX = "qonnx.custom_op.general"


def bn_relu_quant_chain(channels: int, seed: int = 0) -> ModelWrapper:
    """v -> BatchNormalization -> Relu -> Quant(4-bit unsigned, scale 0.37): the float ops of a layer."""
    rng = np.random.default_rng(seed)
    gamma = rng.normal(size=channels).astype(np.float32)
    gamma[0] = -abs(gamma[0])  # a falling channel: thresholds on the negated accumulator
    params = [numpy_helper.from_array(a.astype(np.float32), n) for n, a in (
        ("gamma", gamma), ("beta", rng.normal(size=channels)), ("mean", rng.normal(size=channels) * 3),
        ("var", rng.uniform(0.5, 3, size=channels)), ("s", np.array(0.37)), ("z", np.array(0.0)),
        ("b", np.array(4.0)))]
    nodes = [helper.make_node("BatchNormalization", ["v", "gamma", "beta", "mean", "var"], ["bn"]),
             helper.make_node("Relu", ["bn"], ["r"]),
             helper.make_node("Quant", ["r", "s", "z", "b"], ["q"], domain=QONNX, signed=0, narrow=0,
                              rounding_mode="ROUND")]
    graph = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("v", TensorProto.FLOAT, [1, channels])],
                              [helper.make_tensor_value_info("q", TensorProto.FLOAT, [1, channels])],
                              initializer=params)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(QONNX, 1)])
    return cleanup_model(ModelWrapper(model))


def test_threshold_search_matches_every_accumulator():
    channels = 6
    model = bn_relu_quant_chain(channels)
    graph = FloatGraph.from_model(model, list(model.graph.node), model.graph.input[0].name,
                                  model.graph.output[0].name)
    value_scale = np.linspace(0.011, 0.047, channels)  # not powers of two
    chain = ActivationChain(graph, value_scale, 0.37, IntSpec(0, 15), "test")
    lo, hi = np.full(channels, -400), np.full(channels, 400)
    table, negate = derive_thresholds(chain, lo, hi)
    assert negate[0] and table.count == 15
    acc = np.arange(-400, 401)[:, None].repeat(channels, axis=1)
    want = chain.codes(acc)  # the reference's float ops on every accumulator value
    got = table.apply(acc * np.where(negate, -1, 1)[None, :])
    assert np.array_equal(got, want)


@pytest.mark.parametrize("fps", [20_000, 400_000, 3_000_000])
def test_results_do_not_depend_on_folding(models_dir, tmp_path, fps):
    model = models_dir / "TFC_1W2A.onnx"
    report = build_model(model, tmp_path / "b", target_fps=fps)
    assert report["fps"] >= fps
    result = csim_vs_reference(model, tmp_path / "b", n=100)
    assert result["bit_exact"], result


def _compile_layers(layers, tmp_path):
    hg = HardwareGraph("unit", "x", [1, layers[0].in_elems], "y", None, layers, None)
    hls = write_hls(hg, load_board("pynq-z2"), 100, tmp_path)
    return compile_csim(hls)


@pytest.mark.parametrize("pe", [1, 4, 12])
def test_standalone_thresholding_and_mvau_kernels(tmp_path, pe):
    rng = np.random.default_rng(pe)
    mw, mh = 20, 12
    in_spec = IntSpec(-8, 7)
    weights = rng.integers(-3, 4, size=(mw, mh))
    mvau = MatrixVectorUnit("mv", weights, in_spec, IntSpec(-3, 3), table=None, pe=pe, simd=5)
    acc_spec = mvau.out_spec
    thresholds = np.sort(rng.integers(acc_spec.lo, acc_spec.hi, size=(mh, 7)), axis=1)
    thr = Thresholding("th", acc_spec, ThresholdTable(thresholds, IntSpec(-3, 4)), pe=3)
    layers = insert_width_converters([mvau, thr])
    exe = _compile_layers(layers, tmp_path)
    x = rng.integers(-8, 8, size=(500, mw))
    x[0], x[1] = -8, 7  # extremes
    got = _run(exe, x.astype(np.int32), mh, tmp_path)
    acc = x @ weights
    want = (acc[:, :, None] >= thresholds[None]).sum(-1) - 3  # direct numpy, not the kit's reference
    assert np.array_equal(got, want)


def test_xnor_kernel_against_numpy(tmp_path):
    rng = np.random.default_rng(7)
    mw, mh = 96, 8
    weights = rng.choice([-1, 1], size=(mw, mh))
    mvau = MatrixVectorUnit("xn", weights, IntSpec(-1, 1, True), IntSpec(-1, 1, True), pe=2, simd=48)
    assert mvau.arith == "xnor"
    exe = _compile_layers([mvau], tmp_path)
    x = rng.choice([-1, 1], size=(300, mw))
    got = _run(exe, x.astype(np.int32), mh, tmp_path)
    assert np.array_equal(got, x @ weights)
