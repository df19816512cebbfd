"""The element-wise Max of two quantized branches (ONNX ``Max``): a kit, a kernel, a lowering."""

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from conftest import build_model, csim_vs_reference
from edge_models import max_branches_net
from fpgaflow.codegen.hls import write_hls_from_graph
from fpgaflow.ir import IntSpec
from fpgaflow.layers.max_streams import MaxStreams
from test_errors import assert_user_error, run_cli


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return max_branches_net(tmp_path_factory.mktemp("max"))


def test_max_of_branches_bit_exact(model, tmp_path):
    report = build_model(model, tmp_path / "b")
    (row,) = [r for r in report["layers"] if r["kind"] == "max"]
    assert row["in_elems"] == row["out_elems"] == 8 * 8 * 8  # both 8x8x8 branches, element by element
    result = csim_vs_reference(model, tmp_path / "b", n=300)
    assert result["integers_equal"] and result["bit_exact"], result
    assert "fpgaflow::max_streams<" in (tmp_path / "b" / "hls" / "top.cpp").read_text()
    write_hls_from_graph(tmp_path / "b", tmp_path / "again")  # graph.json names the new kit
    for name in ("config.h", "params.h", "top.cpp"):
        assert (tmp_path / "again" / "hls" / name).read_bytes() == (tmp_path / "b" / "hls" / name).read_bytes()


def test_max_kit_aligns_scales_and_schedules_its_cycles():
    kit = MaxStreams("m", IntSpec(0, 15), IntSpec(0, 7), 0, 1, 12, pe=3)
    a = np.array([[0, 15, 3, 9] * 3])
    b = np.array([[7, 0, 2, 4] * 3])
    assert np.array_equal(kit.reference(a, b), np.maximum(a, b << 1))
    assert kit.out_spec == IntSpec(0, 15)
    sched = kit.schedule()
    assert sum(p.count for p in sched) == kit.cycles() == 4
    assert all(p.reads == (1, 1) and p.writes == (1,) for p in sched)


def test_max_of_non_power_of_two_scales_is_refused(model, tmp_path):
    proto = onnx.load(model)
    (scale,) = [i for i in proto.graph.initializer if i.name.startswith("/b/b.2/act_quant") and
                numpy_helper.to_array(i).size == 1 and float(numpy_helper.to_array(i)) == 1.0]
    scale.CopyFrom(numpy_helper.from_array(np.array(0.75, dtype=np.float32), scale.name))
    onnx.save(proto, tmp_path / "m.onnx")
    rc, err = run_cli("build", tmp_path / "m.onnx", "--out", tmp_path / "b", "--no-csim", "--quiet")
    assert_user_error(rc, err, "Max", "power-of-two scales")
