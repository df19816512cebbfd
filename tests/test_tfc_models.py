"""The FINN TFC models (Brevitas QONNX exports) build and match execute_onnx on 1,000 inputs."""

import json

import pytest

from conftest import build_model, csim_vs_reference

TFC = ["TFC_1W1A", "TFC_1W2A", "TFC_2W2A"]


@pytest.mark.parametrize("name", TFC)
def test_tfc_bit_exact_on_1000_inputs(models_dir, tmp_path, name):
    model = models_dir / f"{name}.onnx"
    report = build_model(model, tmp_path / name)
    result = csim_vs_reference(model, tmp_path / name, n=1000)
    assert result["argmax_mismatches"] == 0
    assert result["max_abs_diff"] <= result["tolerance"]
    assert result["bit_exact"]
    written = json.loads((tmp_path / name / "report.json").read_text())
    assert written["layers"] == report["layers"]


def test_tfc_1w1a_layers_are_xnor(models_dir, tmp_path):
    report = build_model(models_dir / "TFC_1W1A.onnx", tmp_path / "b")
    mvaus = [layer for layer in report["layers"] if layer["kind"] == "mvau"]
    assert [layer["arith"] for layer in mvaus] == ["xnor"] * 4
    assert [(layer["mw"], layer["mh"]) for layer in mvaus] == [(784, 64), (64, 64), (64, 64), (64, 10)]
    assert all(layer["dsp"] == 0 for layer in mvaus)
    hls = (tmp_path / "b" / "hls")
    assert "fpgaflow::xnor<MatMul_0_config>" in (hls / "config.h").read_text()


def test_arith_per_layer(models_dir, tmp_path):
    report = build_model(models_dir / "TFC_1W2A.onnx", tmp_path / "b")
    assert {layer["arith"] for layer in report["layers"] if layer["kind"] == "mvau"} == {"ternary"}
    assert all(layer["dsp"] == 0 for layer in report["layers"])


def test_build_report_keys(models_dir, tmp_path):
    report = build_model(models_dir / "TFC_2W2A.onnx", tmp_path / "b")
    for key in ("model", "board", "clock_mhz", "layers", "totals", "fits", "cycles", "fps", "csim"):
        assert key in report
    for layer in report["layers"]:
        for key in ("name", "kind", "arith", "pe", "simd", "cycles", "lut", "ff", "dsp", "bram18"):
            assert key in layer
    assert set(report["cycles"]) >= {"latency", "ii"}
    assert report["board"] == "pynq-z2" and report["clock_mhz"] == 100


def test_target_fps_folds_to_meet_it(models_dir, tmp_path):
    report = build_model(models_dir / "TFC_1W1A.onnx", tmp_path / "b", target_fps=1_000_000)
    assert report["cycles"]["ii"] <= 100
    assert report["fps"] >= 1_000_000
    result = csim_vs_reference(models_dir / "TFC_1W1A.onnx", tmp_path / "b", n=50)
    assert result["bit_exact"]
