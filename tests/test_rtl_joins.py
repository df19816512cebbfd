"""RTL of the kits that fork and join streams (fpgaflow/rtl/joins.py: duplicate, add, max, concat) and of
the depthwise vector unit (fpgaflow/rtl/vector_unit.py) under Verilator, through tests/rtl_kit_tb.cpp
with one or two input and output ports: bit-exact against each kit's ``reference`` with random gaps on
every input and stalls on every output; without them, one frame every ``cycles()`` cycles and the
first token out ``pipeline_depth() - 1`` cycles after its iteration (the FIFO after the kit is the
last cycle). Then networks whose branches join in an Add, a Max or a Concat through ``build --rtl`` and
``rtlsim``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import helper, numpy_helper

from fpgaflow.cli import main
from fpgaflow.ir import IntSpec
from fpgaflow.layers.add import AddStreams
from fpgaflow.layers.concat import ConcatStreams
from fpgaflow.layers.duplicate import Duplicate
from fpgaflow.layers.max_streams import MaxStreams
from fpgaflow.layers.thresholding import ThresholdTable
from fpgaflow.layers.vector_unit import VectorUnit
from fpgaflow.rtl import kits  # noqa: F401  (registers the writers)
from fpgaflow.rtl.registry import write_layer
from fpgaflow.rtl.verilate import build_simulation
from onnx_builders import scaled_add_model
from test_rtl_kits import BUILD_CACHE, FRAMES, TB, check_kit, pack_tokens, random_frames, unpack_tokens, yosys_stat


def port_counts(layer) -> tuple[int, int]:
    """Input and output ports of a standalone kit (its ``inputs``/``outputs`` name them)."""
    return len(layer.input_specs()), max(1, len(layer.outputs))


def simulate_ports(layer, xs: list[np.ndarray], work: Path, p_gap=0.0, p_stall=0.0, seed=1):
    """Run ``layer``'s RTL on the frames ``xs`` (one array per input port): per output port the outputs
    (N, out_elems) and the cycles of its tokens, and per input port the cycles its tokens were taken."""
    n_in, n_out = port_counts(layer)
    rtl_dir = work / layer.name
    rtl_dir.mkdir(parents=True, exist_ok=True)
    BUILD_CACHE.mkdir(exist_ok=True)
    module = write_layer(layer, rtl_dir)
    exe = build_simulation(layer.name, [f for f in module.files if f.suffix == ".v"], TB, BUILD_CACHE,
                           ("-CFLAGS", f"-DFPGAFLOW_KIT=V{layer.name} -DFPGAFLOW_INPUTS={n_in} "
                            f"-DFPGAFLOW_OUTPUTS={n_out}"))
    widths, specs = layer.input_widths(), layer.input_specs()
    text = ""
    for x, width, spec in zip(xs, widths, specs):
        tokens = pack_tokens(x, width, spec)
        text += f"{len(tokens)}\n" + "\n".join(tokens) + "\n"
    frames = len(xs[0])
    n_tokens = frames * layer.out_tokens
    proc = subprocess.run([str(exe), str(p_gap), str(p_stall), str(seed), str(n_tokens)], cwd=rtl_dir, text=True,
                          input=text, capture_output=True, timeout=120)
    assert proc.returncode == 0, f"simulation stopped early: {proc.stdout[-500:]}{proc.stderr[-2000:]}"
    lines = [line.split() for line in proc.stdout.splitlines()]
    ins = [np.array([int(f[1]) for f in lines if f[0] == "I" and int(f[2]) == i]) for i in range(n_in)]
    ys, outs = [], []
    for o in range(n_out):
        rows = [f for f in lines if f[0] == "O" and int(f[3]) == o]
        ys.append(unpack_tokens([f[2] for f in rows], layer.out_width, layer.out_spec).reshape(frames, -1))
        outs.append(np.array([int(f[1]) for f in rows]))
    return ys, ins, outs


def check_ports(layer, xs: list[np.ndarray], work: Path, first_out: int) -> dict:
    """Bit-exact on every output with 30% input gaps and output stalls, then without: one frame per
    ``cycles()`` on every output, and the first token ``first_out`` cycles after the first one taken."""
    expected = layer.reference(*xs)
    ys, _, _ = simulate_ports(layer, xs, work, p_gap=0.3, p_stall=0.3, seed=7)
    for y in ys:
        assert np.array_equal(y, expected), f"{layer.name}: RTL differs from the reference"
    ys, ins, outs = simulate_ports(layer, xs, work)
    for y, out in zip(ys, outs):
        assert np.array_equal(y, expected)
        per_frame = np.diff(out[::layer.out_tokens])
        assert np.all(per_frame == layer.cycles()), f"{layer.name}: {per_frame} cycles per frame"
        assert out[0] - min(i[0] for i in ins) == first_out, f"{layer.name}: first token at {out[0]}"
    return {"cycles": layer.cycles(), "first_out": int(outs[0][0] - ins[0][0])}


#: Cases that run in the slow pass only (each a Verilator build of about 10 s).
SLOW = {"add_mixed", "max_signed", "concat_bipolar", "concat_pe1", "mac_bipolar", "mac_unsigned_w"}


def cases(names) -> list:
    """``names`` as parameters, those in SLOW marked slow."""
    return [pytest.param(n, marks=[pytest.mark.slow] if n in SLOW else []) for n in names]


def frames_of(specs: list[IntSpec], elems: list[int], seed: int = 1) -> list[np.ndarray]:
    """Random input codes, one array per port."""
    return [random_frames(s, FRAMES, e, seed + k) for k, (s, e) in enumerate(zip(specs, elems))]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """Kits' RTL in a fresh folder (the Verilator builds go to BUILD_CACHE)."""
    return tmp_path_factory.mktemp("rtl_joins")


@pytest.mark.parametrize("width, spec", [(2, IntSpec(-8, 7)),
                                         pytest.param(1, IntSpec(-1, 1, True), marks=pytest.mark.slow),
                                         pytest.param(5, IntSpec(0, 255), marks=pytest.mark.slow)])
def test_duplicate_rtl(width, spec, work):
    layer = Duplicate(f"dup_w{width}_b{spec.bits}", spec, 20, width)
    layer.outputs = ("a", "b")
    print(check_ports(layer, frames_of([spec], [20]), work, layer.pipeline_depth() - 1))


#: (kit, a_spec, b_spec, shift_a, shift_b, elems, pe): signed with unsigned, shifts on either side.
ALIGNED = {"add_shift_b": (AddStreams, IntSpec(-128, 127), IntSpec(-128, 127), 0, 1, 24, 1),
           "add_mixed": (AddStreams, IntSpec(0, 15), IntSpec(-8, 7), 2, 0, 24, 4),
           "max_shift_a": (MaxStreams, IntSpec(-8, 7), IntSpec(0, 15), 1, 0, 24, 3),
           "max_signed": (MaxStreams, IntSpec(-16, 15), IntSpec(-4, 3), 0, 2, 12, 12)}


@pytest.mark.parametrize("case", cases(sorted(ALIGNED)))
def test_aligned_join_rtl(case, work):
    kit, a, b, shift_a, shift_b, elems, pe = ALIGNED[case]
    layer = kit(case, a, b, shift_a, shift_b, elems, pe)
    layer.inputs = ("a", "b")
    print(check_ports(layer, frames_of([a, b], [elems, elems]), work, layer.pipeline_depth() - 1))


#: (a_spec, b_spec, channels_a, channels_b, pixels, pe)
CONCATS = {"concat_mixed": (IntSpec(0, 15), IntSpec(-8, 7), 4, 2, 3, 2),
           "concat_bipolar": (IntSpec(-1, 1, True), IntSpec(-1, 1, True), 3, 6, 2, 3),
           "concat_pe1": (IntSpec(-4, 3), IntSpec(-4, 3), 2, 1, 4, 1)}


@pytest.mark.parametrize("case", cases(sorted(CONCATS)))
def test_concat_rtl(case, work):
    a, b, ca, cb, pixels, pe = CONCATS[case]
    layer = ConcatStreams(case, a, b, ca, cb, pixels, pe)
    layer.inputs = ("a", "b")
    print(check_ports(layer, frames_of([a, b], layer.input_elems()), work, layer.pipeline_depth() - 1))


def make_vvau(case: str, window: int, channels: int, pixels: int, pe: int, table: bool, seed: int = 0):
    """A vector unit of random weights for ``case`` (mac, mac_bipolar: bipolar inputs and weights, ternary),
    with random sorted thresholds when ``table``."""
    rng = np.random.default_rng(seed)
    weights, in_spec, weight_spec = {
        "mac": (rng.integers(-7, 8, (window, channels)), IntSpec(0, 15), IntSpec(-8, 7)),
        "mac_unsigned_w": (rng.integers(2, 8, (window, channels)), IntSpec(-8, 7), IntSpec(0, 7)),
        "mac_bipolar": (rng.choice([-1, 1], (window, channels)), IntSpec(-1, 1, True), IntSpec(-1, 1, True)),
        "ternary": (rng.integers(-1, 2, (window, channels)), IntSpec(-8, 7), IntSpec(-1, 1)),
    }[case]
    name = f"vvau_{case}_k{window}c{channels}p{pe}x{pixels}{'_t' if table else ''}"
    layer = VectorUnit(name, weights, in_spec, weight_spec, pixels, pe=pe)
    if table:
        lo, hi = layer.acc_spec.lo, layer.acc_spec.hi
        layer.table = ThresholdTable(np.sort(rng.integers(lo - 2, hi + 3, (channels, 3)), axis=1), IntSpec(-1, 2))
    return layer


#: (case, window, channels, pixels, PE, thresholds): a 3x3 window folded and unfolded, one channel fold,
#: a 1x1 window.
VVAU_CASES = [("mac", 9, 4, 3, 2, False), ("ternary", 9, 6, 2, 1, True), ("mac_bipolar", 4, 8, 2, 8, True),
              ("mac_unsigned_w", 1, 4, 3, 2, False)]


@pytest.mark.parametrize("case", cases([c[0] for c in VVAU_CASES]))
def test_vector_unit_rtl(case, work):
    case = next(c for c in VVAU_CASES if c[0] == case)
    layer = make_vvau(*case)
    assert layer.arith == ("ternary" if case[0] == "ternary" else "mac")
    result = check_kit(layer, work)
    assert result["first_out"] == layer.window_size * layer.channels // layer.pe + layer.pipeline_depth() - 1
    print(result)


def _cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def join_model(path: Path, op: str) -> Path:
    """``scaled_add_model`` with its residual Add (branch scale 0.5: a shift of one) or, in its place, a
    Max of the same branches, or a Concat along channels (branch scale 1; the last conv reads 4 channels)."""
    model = scaled_add_model(path, branch_scale=1.0 if op == "Concat" else 0.5)
    if op == "Add":
        return model
    proto = onnx.load(model)
    (node,) = [n for n in proto.graph.node if n.op_type == "Add"]
    node.op_type = op
    if op == "Concat":
        node.attribute.append(helper.make_attribute("axis", 1))
        (w,) = [i for i in proto.graph.initializer if i.name == "c2_w"]
        weights = np.random.default_rng(6).integers(-3, 4, (3, 4, 1, 1)).astype(np.float32)
        w.CopyFrom(numpy_helper.from_array(weights, "c2_w"))
    onnx.save(proto, str(path))
    return path


#: The join of the two branches, and the kits the build must have made.
NETWORKS = {"Add": {"Duplicate", "AddStreams"}, "Max": {"Duplicate", "MaxStreams"},
            "Concat": {"Duplicate", "ConcatStreams"}}


@pytest.mark.parametrize("op", [pytest.param(op, marks=[] if op == "Add" else [pytest.mark.slow]) for op in NETWORKS])
def test_branch_network_rtlsim(op, tmp_path):
    """x -> Duplicate -> (Conv 1x1 -> quantizer) joined with x by ``op`` -> thresholds -> Conv 1x1:
    ``build --rtl`` and ``rtlsim --check-fifos`` on 100 frames, bit-exact and at the cycle simulator's II,
    which 4096-deep FIFOs do not improve (about 40 s)."""
    model = join_model(tmp_path / f"{op}.onnx", op)
    out = tmp_path / op
    _cli("build", model, "--out", out, "--rtl", "--no-csim", "--quiet")
    graph = json.loads((out / "graph.json").read_text())
    assert NETWORKS[op] <= {entry["kit"]["type"] for entry in graph["layers"]}
    top = (out / "rtl" / "fpgaflow_top.v").read_text()
    assert ".out0_data(st_in_dup0_a_w_data)" in top and ".in1_data(st_in_dup0_b_r_data)" in top
    _cli("rtlsim", out, "--frames", 100, "--check-fifos")
    result = json.loads((out / "rtlsim.json").read_text())
    assert result["bit_exact"] and result["tlast_ok"] and result["frames"] == 100
    assert result["ii"] == result["predicted"]["ii"], result
    # the cycle simulator's FIFO depths cost no throughput: 4096-deep FIFOs in RTL give the same II
    deep = (out / "rtl_deep" / "fpgaflow_top.v").read_text()
    assert ".DEPTH(4096)" in deep and ".DEPTH(4096)" not in top
    assert result["deep_fifos"]["ii"] == result["ii"] and result["fifos_ok"], result


def _duplicate():
    layer = Duplicate("dup_synth", IntSpec(-8, 7), 24, 2)
    layer.outputs = ("a", "b")
    return layer


#: Kits through Yosys: the vector unit with thresholds, and (slow) a two-output and a two-input kit.
SYNTH = {"vvau": lambda: make_vvau("mac", 9, 4, 3, 2, True), "duplicate": _duplicate,
         "add": lambda: AddStreams("add_synth", IntSpec(-8, 7), IntSpec(0, 15), 1, 0, 24, 2)}


@pytest.mark.parametrize("kit", [pytest.param(k, marks=[] if k == "vvau" else [pytest.mark.slow]) for k in SYNTH])
def test_rtl_synthesizes(kit, tmp_path):
    """Yosys reads the module and maps it for xc7 (about 5 s each)."""
    layer = SYNTH[kit]()
    assert "LUT" in yosys_stat(layer, tmp_path)
