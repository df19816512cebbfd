"""The RTL backend's stream pieces under Verilator: FIFOs (shift register and block RAM), width
converters and the AXI adapters, bit-exact with random output stalls and TLAST per batch; then
(when the compute kits have RTL writers) a whole TFC build against the C simulation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fpgaflow.errors import UserError
from fpgaflow.ir import HardwareGraph, IntSpec
from fpgaflow.layers.width_converter import StreamWidthConverter
from fpgaflow.rtl import top as rtl_top
from fpgaflow.rtlsim import build_harness, expected_tlast, predicted, run_words, timing


MODELS = Path(__file__).parent / "models"


@pytest.fixture
def stream_kits_only(monkeypatch):
    """Only this file's kits: the compute kits' writers (another package) stay out of these tests."""
    monkeypatch.setattr(rtl_top, "load_kit_writers", lambda: None)


def chain(widths, spec, elems, depths):
    """A graph of width converters through ``widths``, FIFO depths ``depths`` (one per stream)."""
    layers = [StreamWidthConverter(f"wc{i}", spec, elems, a, b) for i, (a, b) in enumerate(zip(widths, widths[1:]))]
    hg = HardwareGraph("chain", "x", [1, elems], "y", None, layers, None)
    hg.depths = {s.name: d for s, d in zip(hg.streams(), depths)}
    return hg


def simulate_chain(hg, tmp_path, frames=120, seed=0):
    """Random codes through the chain's RTL with 30% stalls and without; returns (codes, stalled, free)."""
    rtl_top.write_rtl(hg, tmp_path / "rtl")
    exe = build_harness(tmp_path / "rtl")
    spec = hg.source.spec
    codes = np.random.default_rng(seed).integers(spec.lo, spec.hi + 1, size=(frames, hg.source.elems))
    if spec.bipolar:
        codes = 2 * (codes > 0) - 1
    stalled = run_words(exe, codes, hg.source.layout(), hg.sink.layout(), 30, 16, seed + 1)
    free = run_words(exe, codes, hg.source.layout(), hg.sink.layout())
    return codes, stalled, free


CHAINS = {
    # combine, split, element by element both ways; every FIFO a shift register (depth 1 and 2)
    "srl": ([4, 8, 2, 3, 4], IntSpec(-8, 7), 24, [2, 1, 2, 3, 2]),
    # block-RAM FIFOs (power of two and not) between the converters
    "bram": ([4, 8, 2, 3, 4], IntSpec(-8, 7), 24, [2, 64, 2, 33, 40]),
    # tokens wider than one 1024-bit AXI word on both ports, bipolar elements
    "multiword": ([130, 65, 130], IntSpec(-1, 1, bipolar=True), 260, [2, 4, 2]),
    "multiword8": ([130, 65, 130], IntSpec(0, 255), 260, [2, 4, 2]),
}


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_stream_chain_bit_exact_under_backpressure(name, tmp_path, stream_kits_only):
    widths, spec, elems, depths = CHAINS[name]
    hg = chain(widths, spec, elems, depths)
    codes, stalled, free = simulate_chain(hg, tmp_path)
    assert np.array_equal(stalled.codes, codes)
    assert np.array_equal(free.codes, codes)
    assert stalled.stray_tlast == 0 and np.array_equal(stalled.tlast, expected_tlast(len(codes), 16))
    assert stalled.held > 0 and free.held == 0  # output words did wait on m_axis_tready


def test_stream_chain_ii_matches_cycle_simulator(tmp_path, stream_kits_only):
    hg = chain([4, 8, 2, 3, 4], IntSpec(-8, 7), 24, [2, 1, 1, 1, 2])  # one-token FIFOs keep one token per cycle
    _, _, free = simulate_chain(hg, tmp_path, frames=50)
    measured, model = timing(free), predicted(hg, tmp_path, 50, 100.0)
    assert measured["ii"] == model["ii"] == 24  # the element-by-element converters: one element per cycle
    assert abs(measured["latency"] - model["latency"]) <= 12  # adapter and FIFO registers the model lacks


def test_top_wires_every_stream_through_a_fifo(tmp_path, stream_kits_only):
    hg = chain([4, 8, 2], IntSpec(-8, 7), 24, [2, 64, 2])
    rtl_top.write_rtl(hg, tmp_path)
    text = (tmp_path / rtl_top.TOP_FILE).read_text()
    for s in hg.streams():
        assert f"u_fifo_{s.name}" in text
    assert ".DEPTH(64)" in text and "u_wc0" in text and "u_wc1" in text
    assert rtl_top.rtl_sources(tmp_path)[-1].name == rtl_top.TOP_FILE


def test_kit_without_rtl_writer_names_the_layer(tmp_path, stream_kits_only):
    class Unknown(StreamWidthConverter):
        kind = "no_such_kit"

    hg = HardwareGraph("g", "x", [1, 8], "y", None, [Unknown("odd_layer", IntSpec(0, 3), 8, 2, 4)], None)
    with pytest.raises(UserError, match="odd_layer"):
        rtl_top.write_rtl(hg, tmp_path)


def test_tfc_rtlsim_bit_exact(tmp_path):
    """TFC_1W1A: build --rtl, then rtlsim on 200 frames with 30% output stalls (about 30 s)."""
    from click.testing import CliRunner

    from fpgaflow.cli import main

    out = tmp_path / "tfc"
    build = CliRunner().invoke(main, ["build", str(MODELS / "TFC_1W1A.onnx"), "--out", str(out), "--rtl",
                                      "--no-csim", "--quiet"])
    assert build.exit_code == 0, build.output
    run = CliRunner().invoke(main, ["rtlsim", str(out), "--frames", "200"])
    assert run.exit_code == 0, run.output
    result = json.loads((out / "rtlsim.json").read_text())
    assert result["bit_exact"] and result["tlast_ok"] and result["frames"] == 200
    # the cycle simulator's kit schedules, pipeline depths, output slots and AXI adapters are the RTL's
    assert result["ii"] == result["predicted"]["ii"] == 896
    assert result["latency"] == result["predicted"]["latency"]
    layers = {entry["layer"]: entry for entry in result["layers"]}
    assert layers["MatMul_0"]["tokens"] > 0 and layers["MatMul_3"]["last_token"] >= layers["MatMul_0"]["last_token"]


def test_rtlsim_cli_bad_dir_exits_2(tmp_path):
    from click.testing import CliRunner

    from fpgaflow.cli import main

    result = CliRunner().invoke(main, ["rtlsim", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert "error:" in result.output and "fpgaflow build" in result.output
