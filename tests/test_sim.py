"""The cycle simulator: analytical cases, agreement with the kits' cycle models, FIFO sizing, deadlock."""

import json

import numpy as np
import pytest

from brevitas_cnns import make_cnn
from conftest import build_model
from fpgaflow.frontend.load import load_model
from fpgaflow.ir import HardwareGraph, IntSpec
from fpgaflow.layers.mvau import MatrixVectorUnit
from fpgaflow.passes.folding import apply_folding
from fpgaflow.passes.streamline import streamline
from fpgaflow.sim.pipeline import AXIS_IN_LATENCY, AXIS_OUT_LATENCY, run_engine, summarise, write_pipeline
from test_errors import assert_user_error, run_cli


@pytest.mark.parametrize("mh,mw,pe,simd", [(8, 12, 1, 1), (16, 32, 4, 8), (10, 64, 5, 64), (64, 30, 64, 3)])
def test_single_mvau_ii_and_latency(tmp_path, mh, mw, pe, simd):
    weights = np.random.default_rng(mh).integers(-3, 4, size=(mw, mh))
    mvau = MatrixVectorUnit("mv", weights, IntSpec(-8, 7), IntSpec(-3, 3), pe=pe, simd=simd)
    hg = HardwareGraph("unit", "x", [1, mw], "y", None, [mvau], None)
    frames = 5
    result = summarise(run_engine(write_pipeline(hg, tmp_path, {}, 2), frames), frames, 100.0)
    ii = (mh // pe) * (mw // simd)
    assert result["ii"] == ii
    # latency from the first s_axis word to the frame's last m_axis word: the input adapter, the
    # layer's iterations and pipeline, the output adapter and the output token's further words
    assert hg.source.layout().words == 1
    assert result["latency"] == (AXIS_IN_LATENCY + ii + mvau.pipeline_depth() + AXIS_OUT_LATENCY
                                 + hg.sink.layout().words - 1)
    assert result["layers"][0]["busy_per_frame"] == ii


def _layers(onnx_path, target_cycles):
    hg = streamline(load_model(onnx_path), "m")
    hg.layers = apply_folding(hg.layers, target_cycles)
    return hg


@pytest.mark.parametrize("kind", ["residual", "concat_avgpool", "cnv_sparse90", "depthwise_separable"])
def test_schedules_agree_with_cycles_and_stream_shapes(tmp_path, kind):
    """Every kit's loop schedule runs its cycle count and moves exactly its frame's tokens."""
    hg = _layers(make_cnn(kind, tmp_path, seed=0), 500)
    for layer in hg.layers:
        sched = layer.schedule()
        assert sum(p.count for p in sched) == layer.cycles(), layer.name
        reads = np.sum([np.multiply(p.count, p.reads) for p in sched], axis=0)
        writes = np.sum([np.multiply(p.count, p.writes) for p in sched], axis=0)
        want_reads = [e // w for e, w in zip(layer.input_elems(), layer.input_widths())]
        assert list(reads) == want_reads, layer.name
        assert list(writes) == [layer.out_tokens] * len(layer.outputs), layer.name


@pytest.mark.parametrize("fps", [100_000, 1_500_000])
def test_tfc_sim_meets_target_and_reports(models_dir, tmp_path, fps):
    out = tmp_path / "b"
    report = build_model(models_dir / "TFC_1W1A.onnx", out, target_fps=fps)
    assert report["cycles"]["source"] == "simulation"
    assert report["fps"] >= fps and report["fits"]
    rc, err = run_cli("sim", out, "--frames", 100)
    assert rc == 0, err
    sim = json.loads((out / "sim.json").read_text())
    slowest = max(l["cycles"] for l in report["layers"])
    assert sim["ii"] == slowest  # the sized FIFOs lose no throughput
    busy = {l["name"]: l["busy_per_frame"] for l in sim["layers"]}
    assert all(busy[l["name"]] == l["cycles"] for l in report["layers"])
    assert sim["bottleneck"] in busy
    html = (out / "report.html").read_text()
    assert "(simulated, 100 frames)" in html and all(l["name"] in html for l in report["layers"])


def test_residual_deadlock_is_reported_not_hung(tmp_path):
    out = tmp_path / "b"
    build_model(make_cnn("residual", tmp_path, seed=0), out)
    graph = out / "graph.json"  # fpgaflow sim starts from the saved hardware graph
    doc = json.loads(graph.read_text())
    for stream in doc["streams"]:
        stream["depth"] = 1  # every FIFO one token deep
    graph.write_text(json.dumps(doc))
    rc, err = run_cli("sim", out, "--frames", 3)
    assert_user_error(rc, err, "deadlocks", "waits for")
