"""The saved hardware graph (DIR/graph.json + DIR/params.npz) is the artefact later stages start from."""

import filecmp
import json
import shutil

import pytest

from conftest import build_model
from test_errors import run_cli
from brevitas_cnns import make_cnn
from fpgaflow.codegen.hls import write_hls_from_graph
from fpgaflow.graph_file import load_graph


def _same_tree(a, b, skip=("csim_build",)) -> list[str]:
    """Files that differ or exist on one side only, comparing bytes."""
    cmp = filecmp.dircmp(a, b, ignore=list(skip))
    bad = [f"{a}/{n}" for n in cmp.left_only + cmp.right_only + cmp.funny_files]
    bad += [f"{a}/{n}" for n in cmp.common_files if not filecmp.cmp(f"{a}/{n}", f"{b}/{n}", shallow=False)]
    for sub in cmp.common_dirs:
        bad += _same_tree(f"{a}/{sub}", f"{b}/{sub}", skip)
    return bad


@pytest.mark.parametrize("kind", ["tfc", "residual"])
def test_hls_rebuilt_from_graph_alone_is_identical(models_dir, tmp_path, kind):
    """Only graph.json and params.npz are copied; the C++ written from them is the build's, byte for byte."""
    model = models_dir / "TFC_2W2A.onnx" if kind == "tfc" else make_cnn("residual", tmp_path, seed=0)
    build_model(model, tmp_path / "build")
    alone = tmp_path / "alone"
    alone.mkdir()
    for name in ("graph.json", "params.npz"):
        shutil.copy(tmp_path / "build" / name, alone / name)
    write_hls_from_graph(alone, tmp_path / "rebuilt")
    assert _same_tree(tmp_path / "build" / "hls", tmp_path / "rebuilt" / "hls") == []


def test_graph_names_every_stream_once(models_dir, tmp_path):
    report = build_model(models_dir / "TFC_1W1A.onnx", tmp_path / "b")
    hg, doc = load_graph(tmp_path / "b")
    streams = doc["streams"]
    assert streams[0]["name"] == "in" and streams[0]["producer"] is None
    assert streams[-1]["name"] == "out" and streams[-1]["consumer"] is None
    inner = {s["name"]: s["depth"] for s in streams[1:-1]}
    assert inner == {s["name"]: s["depth"] for s in report["streams"]}
    assert [layer.name for layer in hg.layers] == [r["name"] for r in report["layers"]]
    assert [layer.cycles() for layer in hg.layers] == [r["cycles"] for r in report["layers"]]


def test_sim_starts_from_the_saved_graph(models_dir, tmp_path):
    out = tmp_path / "b"
    build_model(models_dir / "TFC_1W1A.onnx", out)
    before = json.loads((out / "sim.json").read_text())
    shutil.rmtree(out / "sim")  # the engine's input is written again from graph.json
    rc, err = run_cli("sim", out, "--frames", 8)
    assert rc == 0, err
    assert json.loads((out / "sim.json").read_text())["ii"] == before["ii"]
