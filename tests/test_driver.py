"""The PYNQ driver in DIR/driver: its csim backend against `fpgaflow csim`, packing, PYNQ idioms."""

from __future__ import annotations

import importlib
import subprocess
import sys
import types

import numpy as np
import pytest

from brevitas_mlps import make_mlp
from conftest import build_model
from fpgaflow.csim import run_csim
from fpgaflow.streamio.packing import StreamLayout, pack, unpack
from fpgaflow.frontend.reference import Reference
from fpgaflow.verify import random_inputs

N = 1000
BATCH = 300  # does not divide N

# one worker builds the designs these tests share
pytestmark = pytest.mark.xdist_group("driver")


def load_driver(build_dir):
    """The driver package as a user imports it: from the build's driver folder."""
    sys.path.insert(0, str(build_dir / "driver"))
    try:
        for name in [m for m in sys.modules if m.startswith("fpgaflow_driver")]:
            del sys.modules[name]
        return importlib.import_module("fpgaflow_driver")
    finally:
        sys.path.pop(0)


@pytest.fixture(scope="module")
def builds(models_dir, tmp_path_factory):
    """Designs whose accelerator input streams 1-bit (bipolar), 2-bit and 8-bit codes."""
    root = tmp_path_factory.mktemp("driver")
    out = {}
    build_model(models_dir / "TFC_1W1A.onnx", root / "w1a1")
    out["1-bit in"] = (models_dir / "TFC_1W1A.onnx", root / "w1a1")
    # SIMD 784 on the first layer: 1,568-bit tokens, two 1,024-bit AXI words each (PE 1: at PE 8 its
    # 6,272 ternary lanes would not fit the pynq-z2)
    build_model(models_dir / "TFC_2W2A.onnx", root / "w2a2", folding={"MatMul_0": (1, 784)})
    out["2-bit in, wide tokens"] = (models_dir / "TFC_2W2A.onnx", root / "w2a2")
    mlp = make_mlp("w4a4_bn", root / "models")
    build_model(mlp, root / "mlp8")
    out["8-bit in"] = (mlp, root / "mlp8")
    return out


@pytest.mark.parametrize("name", ["1-bit in", "2-bit in, wide tokens", "8-bit in"])
def test_csim_backend_equals_fpgaflow_csim(builds, name):
    model, build_dir = builds[name]
    driver = load_driver(build_dir)
    accel = driver.Accelerator(backend="csim", batch_size=BATCH)
    bits = {"1-bit in": 1, "2-bit in, wide tokens": 2, "8-bit in": 8}[name]
    assert accel.in_layout.elem_bits == bits
    if name.startswith("2-bit"):
        assert accel.in_layout.word_bits == 1024 and accel.in_layout.words == 2
    x = random_inputs(Reference(model).input_shape, N, seed=3)
    want = run_csim(build_dir, x)
    codes = accel.quantize(x)
    got_ints = accel.execute_codes(codes)
    assert np.array_equal(got_ints, want.ints)
    got = accel.execute(x)
    assert got.dtype == want.outputs.dtype and np.array_equal(got, want.outputs)
    assert accel.last_fps and accel.last_fps > 0
    assert np.array_equal(accel.classify(x[:7]), want.outputs[:7].reshape(7, -1).argmax(1))


def test_driver_needs_numpy_only(builds):
    """The driver folder runs without fpgaflow, onnx, onnxruntime or qonnx installed."""
    _, build_dir = builds["8-bit in"]
    script = (
        "import sys\n"
        "for m in ('fpgaflow', 'onnx', 'onnxruntime', 'qonnx', 'torch'): sys.modules[m] = None\n"
        f"sys.path.insert(0, {str(build_dir / 'driver')!r})\n"
        "import numpy as np\n"
        "from fpgaflow_driver import Accelerator\n"
        "a = Accelerator(backend='csim')\n"
        "print(a.classify(np.zeros([5] + a.input_shape[1:], np.float32)).tolist())\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert len(eval(proc.stdout)) == 5


def test_packing_bits():
    """Element e of a token sits at bits [e*B, (e+1)*B), two's complement, LSB first."""
    layout = StreamLayout(elems=6, width=3, elem_bits=2, lo=-2, hi=1)
    assert (layout.word_bits, layout.words, layout.frame_bytes) == (8, 1, 2)
    # token 0: -1 (11), 1 (01), 0 (00) -> 0b000111; token 1: -2 (10), 0, 1 (01) -> 0b010010
    data = pack(np.array([[-1, 1, 0, -2, 0, 1]]), layout)
    assert data.tolist() == [[0b000111, 0b010010]]
    assert unpack(data, layout).tolist() == [[-1, 1, 0, -2, 0, 1]]
    bipolar = StreamLayout(elems=9, width=9, elem_bits=1, lo=-1, hi=1, bipolar=True)
    assert (bipolar.word_bits, bipolar.frame_bytes) == (16, 2)
    data = pack(np.array([[1, -1, -1, 1, 1, 1, -1, -1, 1]]), bipolar)
    assert data.tolist() == [[0b00111001, 0b1]]
    with pytest.raises(ValueError, match="without 0"):
        pack(np.zeros((1, 9)), bipolar)


@pytest.mark.parametrize("bits,signed,width,elems", [(1, False, 5, 20), (3, True, 7, 21), (8, False, 64, 128),
                                                     (20, True, 100, 200), (32, True, 3, 3)])
def test_packing_round_trip(bits, signed, width, elems):
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    layout = StreamLayout(elems, width, bits, lo, hi)
    codes = np.random.default_rng(bits).integers(lo, hi + 1, size=(11, elems))
    data = pack(codes, layout)
    assert data.shape == (11, layout.frame_bytes) and layout.word_bits in (8, 16, 32, 64, 128, 256, 512, 1024)
    assert layout.words * layout.word_bits >= width * bits
    assert np.array_equal(unpack(data, layout), codes)


class _FakeBuffer(np.ndarray):
    def flush(self):
        self.flushed = True

    def invalidate(self):
        self.invalidated = True


class _FakeChannel:
    def __init__(self, dma):
        self.dma, self.buffer = dma, None

    def transfer(self, buffer):
        self.buffer = buffer

    def wait(self):
        self.dma.maybe_run()


class _FakeDMA:
    """An AXI DMA whose accelerator is the build's C simulation in --axi mode."""

    def __init__(self, exe, tmp_path):
        self.exe, self.tmp = exe, tmp_path
        self.sendchannel, self.recvchannel = _FakeChannel(self), _FakeChannel(self)
        self.transfers = 0

    def maybe_run(self):
        src, dst = self.sendchannel.buffer, self.recvchannel.buffer
        if src is None or dst is None:
            return
        assert getattr(src, "flushed", False), "send buffer not flushed before the transfer"
        np.asarray(src).tofile(self.tmp / "in.bin")
        subprocess.run([str(self.exe), "--axi", str(self.tmp / "in.bin"), str(self.tmp / "out.bin")], check=True)
        dst[:] = np.fromfile(self.tmp / "out.bin", dtype=np.uint8)
        self.sendchannel.buffer = self.recvchannel.buffer = None
        self.transfers += 1


def test_pynq_backend_with_a_fake_board(builds, tmp_path, monkeypatch):
    """The PYNQ backend's Overlay / allocate / DMA calls, against a stand-in pynq module."""
    model, build_dir = builds["2-bit in, wide tokens"]
    exe = build_dir / "hls" / "csim_build" / "csim"
    dma = _FakeDMA(exe, tmp_path)
    overlays = []

    def overlay(bitfile):
        overlays.append(bitfile)
        return types.SimpleNamespace(dma=dma)

    fake = types.SimpleNamespace(Overlay=overlay,
                                 allocate=lambda shape, dtype: np.zeros(shape, dtype).view(_FakeBuffer))
    monkeypatch.setitem(sys.modules, "pynq", fake)
    driver = load_driver(build_dir)
    accel = driver.Accelerator(batch_size=64)
    assert overlays == [str(build_dir / "driver" / "fpgaflow.bit")]
    x = random_inputs(Reference(model).input_shape, 150, seed=4)
    assert np.array_equal(accel.execute(x), run_csim(build_dir, x).outputs)
    assert dma.transfers == 3


def test_unknown_backend_and_missing_design(builds, tmp_path):
    driver = load_driver(builds["8-bit in"][1])
    with pytest.raises(ValueError, match="backend"):
        driver.Accelerator(backend="fpga")
    with pytest.raises(FileNotFoundError, match="design.json"):
        driver.Accelerator(backend="csim", driver_dir=tmp_path)


CASES = {
    # op: (inputs after x as {name: array}, attributes, input shape, exact)
    "Mul": ({"c": np.float32([[0.37]])}, {}, (2, 5), True),
    "Div": ({"c": np.float32(255.0)}, {}, (2, 5), True),
    "Sub": ({"c": np.linspace(-1, 1, 5, dtype=np.float32)}, {}, (2, 5), True),
    "Add": ({"c": np.float32(0.5)}, {}, (2, 5), True),
    "Relu": ({}, {}, (2, 5), True),
    "Quant": ({"s": np.float32(0.07), "z": np.float32(0), "b": np.float32(4)},
              {"signed": 1, "narrow": 1, "rounding_mode": "ROUND"}, (2, 5), True),
    "IntQuant": ({"s": np.float32([0.1, 0.2, 0.3, 0.05, 1.0]), "z": np.float32(1), "b": np.float32(3)},
                 {"signed": 0, "narrow": 0, "rounding_mode": "HALF_UP"}, (2, 5), True),
    "BipolarQuant": ({"s": np.float32(0.5)}, {}, (2, 5), True),
    "MultiThreshold": ({"t": np.sort(np.random.default_rng(0).normal(size=(3, 7)), axis=1).astype(np.float32)},
                       {"out_scale": 0.5, "out_bias": -1.5}, (2, 3, 4, 4), True),
    "Transpose": ({}, {"perm": [0, 2, 3, 1]}, (2, 3, 4, 4), True),
    "MatMul": ({"w": np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32)}, {}, (2, 5), False),
    "BatchNormalization": ({"g": np.float32([1.5, -2, 0.5]), "b": np.float32([0.1, 0, -1]),
                            "m": np.float32([0, 1, 2]), "v": np.float32([1, 4, 0.25])},
                           {"epsilon": 1e-3}, (2, 3, 4, 4), False),
    "GlobalAveragePool": ({}, {}, (2, 3, 4, 4), False),
}


@pytest.mark.parametrize("op", sorted(CASES))
def test_numpy_host_ops_match_the_reference_arithmetic(op):
    """The driver's numpy ops against FloatGraph (onnxruntime per node, qonnx's own quantizers)."""
    from onnx import helper

    from fpgaflow.interface import host_graph_data
    from fpgaflow.streamio.host_ops import HostGraph
    from fpgaflow.frontend.float_exec import FloatGraph

    consts, attrs, shape, exact = CASES[op]
    domain = "qonnx.custom_op.general" if op in ("Quant", "IntQuant", "BipolarQuant", "MultiThreshold") else ""
    node = helper.make_node(op, ["x", *consts], ["y"], domain=domain, **attrs)
    x = (np.random.default_rng(2).normal(size=(64,) + shape[1:]) * 2).astype(np.float32)
    x[0].flat[:4] = [0.0, -0.0, 0.035, -0.105]  # ties and zeros
    out_shape = {"MatMul": (2, 4), "GlobalAveragePool": (2, 3, 1, 1), "Transpose": (2, 4, 4, 3)}.get(op, shape)
    reference = FloatGraph([node], consts, {"x": list(shape), "y": list(out_shape)}, {domain: 1, "": 13}, "x", "y")
    constants = {}
    data = host_graph_data(reference, "c", constants)
    ours = HostGraph(data["nodes"], {n: constants[k] for n, k in data["constants"].items()}, data["shapes"], "x", "y")
    want, got = reference(x), ours(x)
    assert got.dtype == np.float32 and got.shape == want.shape
    if exact:
        assert np.array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
