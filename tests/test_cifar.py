"""CIFAR-10-scale FINN CNV (3x32x32, six convs, three dense layers, random Brevitas weights).

Slow (about 2-3 minutes on 2 cores): run with ``-m slow``; CI runs it after the default suite.
"""

import time

import pytest

from brevitas_cnns import cnv_cifar_random
from conftest import build_model, csim_vs_reference


@pytest.mark.slow
def test_cifar_cnv_builds_and_is_bit_exact(tmp_path):
    onnx_path = cnv_cifar_random(tmp_path)
    t0 = time.perf_counter()
    report = build_model(onnx_path, tmp_path / "build")
    build_s = time.perf_counter() - t0
    result = csim_vs_reference(onnx_path, tmp_path / "build", n=100)
    assert result["bit_exact"], result
    convs = [l for l in report["layers"] if l["kind"] == "mvau" and l["name"].startswith("Conv")]
    assert len(convs) == 6
    print(f"CIFAR CNV: build {build_s:.1f} s; {len(report['layers'])} layer kits")
