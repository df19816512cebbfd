"""The generated Vitis HLS script runs in tclsh with the vendor commands replaced by recorders."""

import re
import shutil
import subprocess

import pytest

from conftest import build_model

STUBS = """
set ::calls {}
foreach cmd {open_project set_top add_files open_solution set_part create_clock csim_design csynth_design export_design} {
    proc $cmd args "lappend ::calls \\[list $cmd {*}\\$args\\]"
}
rename exit real_exit
proc exit {} {
    foreach call $::calls { puts $call }
    real_exit 0
}
source hls.tcl
"""


@pytest.mark.usefixtures("tclsh")  # from scripts/install_system_packages.sh: a missing one fails
def test_hls_tcl_records_the_design(models_dir, tmp_path):
    report = build_model(models_dir / "TFC_1W1A.onnx", tmp_path / "b", clock_mhz=125)
    hls = tmp_path / "b" / "hls"
    (hls / "stubs.tcl").write_text(STUBS)
    proc = subprocess.run(["tclsh", "stubs.tcl"], cwd=hls, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    calls = [line.split() for line in proc.stdout.splitlines()]
    names = [c[0] for c in calls]
    assert names == ["open_project", "set_top", "add_files", "add_files", "open_solution", "set_part",
                     "create_clock", "csynth_design", "export_design"]
    assert ["set_top", "fpgaflow_top"] in calls
    assert ["set_part", "xc7z020clg400-1"] in calls
    assert any(c[:3] == ["create_clock", "-period", "8.000"] for c in calls)
    assert any(c[:3] == ["add_files", "-tb", "testbench.cpp"] for c in calls)
    for source in ("top.cpp", "testbench.cpp", "config.h", "params.h", "fpgaflow/mvau.h", "fpgaflow/stream.h",
                   "fpgaflow/axis.h"):
        assert (hls / source).is_file()
    # the synthesis top: AXI4-Stream ports for the DMA, free-running, FIFO depths from the simulator
    top = (hls / "top.cpp").read_text()
    assert "void fpgaflow_top(fpgaflow::stream<in_word_t>& s_axis, fpgaflow::stream<out_word_t>& m_axis)" in top
    for pragma in ("INTERFACE axis port = s_axis", "INTERFACE axis port = m_axis", "INTERFACE ap_ctrl_none port = return"):
        assert f"#pragma HLS {pragma}" in top
    depths = dict(re.findall(r"#pragma HLS STREAM variable = (\w+) depth = (\d+)", top))
    assert report["streams"] and all(depths[s["name"]] == str(s["depth"]) for s in report["streams"])
