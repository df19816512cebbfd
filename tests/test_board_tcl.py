"""The board flow: the Vivado block design runs in tclsh with every vendor command a recorder, the
bitstream script and ``fpgaflow build --bitstream`` run with fake vendor tools, bad board files exit 2."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fpgaflow.boards import load_board
from fpgaflow.deploy.board_scripts import axi_word_bits, run_bitstream, write_board
from fpgaflow.errors import UserError
from test_errors import assert_user_error, run_cli

# tclsh comes from scripts/install_system_packages.sh (Debian package tcl): a missing one fails.
needs_tclsh = pytest.mark.usefixtures("tclsh")

# Every Vivado command the script may call. Object getters return the object's name, a few queries
# return what a finished run would; everything else is recorded, one call per line, fields split by \x1f
# (set_property -dict is recorded as one set_property per key).
STUBS = r"""
set ::calls [open calls.txt w]
fconfigure $::calls -buffering line
proc record {args} { puts $::calls [join $args \x1f] }
foreach cmd {create_project update_ip_catalog create_bd_design create_bd_cell apply_bd_automation
             connect_bd_net connect_bd_intf_net assign_bd_address validate_bd_design save_bd_design
             generate_target add_files update_compile_order launch_runs wait_on_run close_project} {
    proc $cmd args "record $cmd {*}\$args"
}
foreach cmd {get_bd_cells get_bd_pins get_bd_intf_pins get_bd_addr_spaces get_bd_addr_segs get_runs} {
    proc $cmd args { return [lindex $args end] }
}
proc current_project {} { return fpgaflow }
proc current_fileset {} { return sources_1 }
proc get_ipdefs args { return [string map {* 9.9} [lindex $args end]] }
proc set_property args {
    if {[lindex $args 0] eq "-dict"} {
        foreach {key value} [lindex $args 1] { record set_property $key $value [lindex $args 2] }
        return
    }
    if {[lindex $args 0] eq "board_part" && $::no_board_files} { error "board_part definition not found" }
    record set_property {*}$args
}
proc get_property {name object} {
    return [dict get [dict create DIRECTORY $::run_dir PROGRESS $::progress STATUS $::status] $name]
}
proc get_files args {
    if {"-of_objects" in $args} { return [list $::hwh] }
    return [lindex $args end]
}
proc make_wrapper args { record make_wrapper {*}$args; return fpgaflow_wrapper.v }
"""

# The clock pin of every AXI port and cell in the design (the PS's own ports included).
CLOCK_SINKS = {"ctrl_ic/aclk", "mem_ic/aclk", "rst/slowest_sync_clk", "dma/s_axi_lite_aclk", "dma/m_axi_mm2s_aclk",
               "dma/m_axi_s2mm_aclk", "accel/ap_clk"}
PS_PINS = {
    "ps7": {"vlnv": "xilinx.com:ip:processing_system7:9.9", "clock": "ps/FCLK_CLK0", "reset": "ps/FCLK_RESET0_N",
            "port_clocks": {"ps/M_AXI_GP0_ACLK", "ps/S_AXI_HP0_ACLK"}, "master": "ps/M_AXI_GP0",
            "slave": "ps/S_AXI_HP0", "clock_key": "CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ",
            "ports_on": {"CONFIG.PCW_USE_S_AXI_HP0": "1", "CONFIG.PCW_USE_M_AXI_GP0": "1"},
            "dma_base": "0x40400000", "ddr": "ps/S_AXI_HP0/HP0_DDR_LOWOCM"},
    "ps8": {"vlnv": "xilinx.com:ip:zynq_ultra_ps_e:9.9", "clock": "ps/pl_clk0", "reset": "ps/pl_resetn0",
            "port_clocks": {"ps/maxihpm0_fpd_aclk", "ps/saxihp0_fpd_aclk"}, "master": "ps/M_AXI_HPM0_FPD",
            "slave": "ps/S_AXI_HP0_FPD", "clock_key": "CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ",
            "ports_on": {"CONFIG.PSU__USE__M_AXI_GP0": "1", "CONFIG.PSU__USE__M_AXI_GP1": "0",
                         "CONFIG.PSU__USE__S_AXI_GP2": "1"},
            "dma_base": "0xA0000000", "ddr": "ps/SAXIGP2/HP0_DDR_LOW"},
}
# (board, clock MHz, in_bits, out_bits). "built" is TFC_1W1A's own build for pynq-z2: 56 bipolar
# inputs per token -> 64-bit words, one INT8 output per token -> 8-bit words.
CASES = {"built": ("pynq-z2", 100, 64, 8), "pynq-z2": ("pynq-z2", 125, 8, 1024), "zcu104": ("zcu104", 150, 128, 16)}

# one worker builds the designs these tests share
pytestmark = pytest.mark.xdist_group("board_tcl")


def _has_real_tools() -> bool:
    return any(shutil.which(t) for t in ("vitis_hls", "vivado"))


def _cli_build(model: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fpgaflow", "build", model, "--out", out, "--no-csim", "--quiet",
                           "--bitstream"], capture_output=True, text=True)


@pytest.fixture(scope="module")
def built(models_dir, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """TFC_1W1A built once for pynq-z2 by ``fpgaflow build --bitstream`` without the vendor tools."""
    if _has_real_tools():
        pytest.skip("real Xilinx tools on PATH")
    out = tmp_path_factory.mktemp("tfc") / "out"
    return out, _cli_build(models_dir / "TFC_1W1A.onnx", out)


def _design_dir(request, tmp_path: Path, case: str) -> Path:
    """A build folder holding the case's board/ scripts and a (dummy) exported HLS IP."""
    name, clock, in_bits, out_bits = CASES[case]
    build = tmp_path / "build"
    if case == "built":
        shutil.copytree(request.getfixturevalue("built")[0] / "board", build / "board")
    else:
        write_board(build, load_board(name), clock, "TFC_1W1A", in_bits, out_bits)
    (build / "hls" / "fpgaflow_top_prj" / "solution1" / "impl" / "ip").mkdir(parents=True)
    return build


def run_block_design(build: Path, progress: str = "100%", board_files: bool = True,
                     script: str = "block_design.tcl") -> tuple:
    """Source board/``script`` under the stubs; (returncode, stdout+stderr, recorded calls)."""
    run_dir = build / "board" / "fake_impl_1"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "fpgaflow_wrapper.bit").write_bytes(b"BIT")
    hwh = build / "board" / "fake_handoff" / "fpgaflow.hwh"
    hwh.parent.mkdir(exist_ok=True)
    hwh.write_text("<HWH/>")
    preamble = (f"set ::run_dir {{{run_dir}}}\nset ::hwh {{{hwh}}}\nset ::progress {progress}\n"
                f"set ::status {{{'write_bitstream Complete!' if progress == '100%' else 'Running...'}}}\n"
                f"set ::no_board_files {int(not board_files)}\n")
    stubs = build / "board" / "stubs.tcl"
    stubs.write_text(preamble + STUBS + f"source [file join [file dirname [info script]] {script}]\n"
                     "close $::calls\n")
    proc = subprocess.run(["tclsh", str(stubs)], cwd=build / "board", capture_output=True, text=True,
                          env={**os.environ, "FPGAFLOW_JOBS": "7"})
    calls = [line.split("\x1f") for line in (build / "board" / "calls.txt").read_text().splitlines()]
    return proc.returncode, proc.stdout + proc.stderr, calls


class Design:
    """The recorded calls, indexed: properties per object, nets, address assignments."""

    def __init__(self, calls: list[list[str]]):
        self.calls = calls
        self.names = [c[0] for c in calls]
        self.props = {(c[3], c[1]): c[2] for c in calls if c[0] == "set_property" and len(c) == 4}
        self.cells = {c[-1]: c[c.index("-vlnv" if "-vlnv" in c else "-reference") + 1]
                      for c in calls if c[0] == "create_bd_cell"}
        self.nets = {(c[1], c[2]) for c in calls if c[0] == "connect_bd_net"}
        self.intf_nets = {(c[1], c[2]) for c in calls if c[0] == "connect_bd_intf_net"}
        self.addresses = [c[1:] for c in calls if c[0] == "assign_bd_address"]

    def first(self, name: str) -> list[str]:
        return next(c for c in self.calls if c[0] == name)

    def sinks(self, source: str) -> set[str]:
        return {to for frm, to in self.nets if frm == source}


@needs_tclsh
@pytest.mark.parametrize("case", sorted(CASES))
def test_block_design_records_the_design(request, tmp_path, case):
    name, clock, in_bits, out_bits = CASES[case]
    board = load_board(name)
    ps = PS_PINS[board.ps]
    build = _design_dir(request, tmp_path, case)
    rc, out, calls = run_block_design(build)
    assert rc == 0, out
    d = Design(calls)
    # The project: the board's part and board part; the HLS IP repository.
    project = d.first("create_project")
    assert project[project.index("-part") + 1] == board.part
    assert Path(project[2]) == build / "board" / "vivado"
    assert d.props[("fpgaflow", "board_part")] == board.board_part
    ip_repo = build / "hls" / "fpgaflow_top_prj" / "solution1" / "impl" / "ip"
    assert Path(d.props[("fpgaflow", "ip_repo_paths")]) == ip_repo
    assert d.first("create_bd_design")[1] == "fpgaflow"
    # The cells.
    assert d.cells == {"ps": ps["vlnv"], "dma": "xilinx.com:ip:axi_dma:9.9", "accel": "fpgaflow:hls:fpgaflow_top:1.0",
                       "rst": "xilinx.com:ip:proc_sys_reset:9.9", "ctrl_ic": "xilinx.com:ip:smartconnect:9.9",
                       "mem_ic": "xilinx.com:ip:smartconnect:9.9"}
    automation = d.first("apply_bd_automation")
    assert automation[-1] == "ps" and "apply_board_preset 1" in automation[automation.index("-config") + 1]
    assert d.props[("ps", ps["clock_key"])] == f"{clock:g}"
    assert {k: d.props[("ps", k)] for k in ps["ports_on"]} == ps["ports_on"]
    assert {k[1]: v for k, v in d.props.items() if k[0] == "dma"} == {
        "CONFIG.c_include_sg": "0", "CONFIG.c_sg_include_stscntrl_strm": "0", "CONFIG.c_sg_length_width": "26",
        "CONFIG.c_m_axis_mm2s_tdata_width": str(in_bits), "CONFIG.c_m_axi_mm2s_data_width": str(max(in_bits, 32)),
        "CONFIG.c_s_axis_s2mm_tdata_width": str(out_bits), "CONFIG.c_m_axi_s2mm_data_width": str(max(out_bits, 32))}
    assert d.props[("mem_ic", "CONFIG.NUM_SI")] == "2"
    # AXI and stream connections.
    assert d.intf_nets == {(ps["master"], "ctrl_ic/S00_AXI"), ("ctrl_ic/M00_AXI", "dma/S_AXI_LITE"),
                           ("dma/M_AXI_MM2S", "mem_ic/S00_AXI"), ("dma/M_AXI_S2MM", "mem_ic/S01_AXI"),
                           ("mem_ic/M00_AXI", ps["slave"]), ("dma/M_AXIS_MM2S", "accel/s_axis"),
                           ("accel/m_axis", "dma/S_AXIS_S2MM")}
    # Every clock and reset pin, explicitly.
    assert d.sinks(ps["clock"]) == CLOCK_SINKS | ps["port_clocks"]
    assert d.sinks(ps["reset"]) == {"rst/ext_reset_in"}
    assert d.sinks("rst/interconnect_aresetn") == {"ctrl_ic/aresetn", "mem_ic/aresetn"}
    assert d.sinks("rst/peripheral_aresetn") == {"dma/axi_resetn", "accel/ap_rst_n"}
    assert len(d.nets) == len(CLOCK_SINKS) + 2 + 1 + 2 + 2
    # The address map.
    lite = ["-offset", ps["dma_base"], "-range", "0x00010000", "-target_address_space", "ps/Data",
            "dma/S_AXI_LITE/Reg", "-force"]
    assert lite in d.addresses
    for space in ("dma/Data_MM2S", "dma/Data_S2MM"):
        assert ["-target_address_space", space, ps["ddr"], "-force"] in d.addresses
    assert len(d.addresses) == 3
    # Wrapper, implementation to the bitstream, and the overlay copied into driver/.
    order = [d.names.index(n) for n in ("assign_bd_address", "validate_bd_design", "save_bd_design", "make_wrapper",
                                        "launch_runs", "wait_on_run", "close_project")]
    assert order == sorted(order)
    assert d.props[("sources_1", "top")] == "fpgaflow_wrapper"
    assert ["add_files", "-norecurse", "fpgaflow_wrapper.v"] in calls
    launch = d.first("launch_runs")
    assert launch[1:] == ["impl_1", "-to_step", "write_bitstream", "-jobs", "7"]
    assert (build / "driver" / "fpgaflow.bit").read_bytes() == b"BIT"
    assert (build / "driver" / "fpgaflow.hwh").read_text() == "<HWH/>"


@needs_tclsh
def test_block_design_without_board_files_builds_for_the_part(request, tmp_path):
    build = _design_dir(request, tmp_path, "pynq-z2")
    rc, out, calls = run_block_design(build, board_files=False)
    assert rc == 0, out
    assert "WARNING" in out and "tul.com.tw:pynq-z2:part0:1.0 is not installed" in out
    automation = Design(calls).first("apply_bd_automation")
    assert "apply_board_preset 0" in automation[automation.index("-config") + 1]
    assert (build / "driver" / "fpgaflow.bit").is_file()


@needs_tclsh
def test_block_design_stops_when_the_run_fails(request, tmp_path):
    build = _design_dir(request, tmp_path, "zcu104")
    rc, out, _ = run_block_design(build, progress="40%")
    assert rc != 0
    assert "impl_1 did not write the bitstream (progress 40%" in out and "runme.log" in out
    assert not (build / "driver" / "fpgaflow.bit").exists()


@needs_tclsh
def test_block_design_needs_the_hls_ip(request, tmp_path):
    build = _design_dir(request, tmp_path, "pynq-z2")
    shutil.rmtree(build / "hls")
    rc, out, calls = run_block_design(build)
    assert rc != 0 and "no HLS IP at" in out and "vitis_hls -f hls.tcl" in out
    assert calls == []


def _rtl_design_dir(tmp_path: Path) -> Path:
    """A pynq-z2 build folder with board/ scripts and a (dummy) rtl/: two Verilog files and a ROM image."""
    build = tmp_path / "build"
    write_board(build, load_board("pynq-z2"), 100, "TFC_1W1A", 64, 8)
    rtl = build / "rtl"
    rtl.mkdir()
    for name in ("MatMul_0.v", "fpgaflow_top.v", "MatMul_0_weights_0.mem"):
        (rtl / name).write_text("// dummy\n")
    (rtl / "sources.txt").write_text("MatMul_0.v\nfpgaflow_top.v\n")
    return build


@needs_tclsh
def test_rtl_block_design_takes_the_verilog_as_the_accelerator(tmp_path):
    """block_design_rtl.tcl: the same block design with the generated Verilog as a module reference."""
    build = _rtl_design_dir(tmp_path)
    ps = PS_PINS["ps7"]
    rc, out, calls = run_block_design(build, script="block_design_rtl.tcl")
    assert rc == 0, out
    d = Design(calls)
    rtl = build / "rtl"
    added = [c[2:] for c in calls if c[:2] == ["add_files", "-norecurse"]]
    assert added[:2] == [[f"{rtl / 'MatMul_0.v'} {rtl / 'fpgaflow_top.v'}"], [str(rtl / "MatMul_0_weights_0.mem")]]
    assert ("fpgaflow", "ip_repo_paths") not in d.props and "update_ip_catalog" not in d.names
    assert d.names.index("add_files") < d.names.index("create_bd_design") < d.names.index("create_bd_cell")
    assert d.cells["accel"] == "fpgaflow_top"
    assert ["create_bd_cell", "-type", "module", "-reference", "fpgaflow_top", "accel"] in calls
    assert d.intf_nets >= {("dma/M_AXIS_MM2S", "accel/s_axis"), ("accel/m_axis", "dma/S_AXIS_S2MM")}
    assert d.sinks(ps["clock"]) == (CLOCK_SINKS - {"accel/ap_clk"}) | {"accel/clk"} | ps["port_clocks"]
    assert d.sinks("rst/peripheral_aresetn") == {"dma/axi_resetn", "accel/rst_n"}
    assert (build / "driver" / "fpgaflow.bit").read_bytes() == b"BIT"


@needs_tclsh
def test_rtl_block_design_needs_the_rtl(tmp_path):
    build = _rtl_design_dir(tmp_path)
    shutil.rmtree(build / "rtl")
    rc, out, calls = run_block_design(build, script="block_design_rtl.tcl")
    assert rc != 0 and "no RTL at" in out and "fpgaflow build --rtl" in out
    assert calls == []


def test_build_bitstream_sh_rtl_runs_vivado_alone(tmp_path):
    """``build_bitstream.sh --rtl``: only vivado, on block_design_rtl.tcl; a bad flag or no rtl/ exits 2."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "tools.log"
    _fake_tool(bin_dir, "vivado", record, VIVADO_OUTPUT)
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin"}
    build = _rtl_design_dir(tmp_path)
    script = build / "board" / "build_bitstream.sh"
    proc = subprocess.run(["bash", str(script), "--rtl"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert [line.split("|") for line in record.read_text().splitlines()] == [
        ["vivado", str(build / "board"), "-mode batch -nojournal -nolog -source block_design_rtl.tcl"]]
    assert (build / "driver" / "fpgaflow.bit").is_file()
    bad = subprocess.run(["bash", str(script), "--rlt"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "unknown option '--rlt'" in bad.stderr
    shutil.rmtree(build / "rtl")
    none = subprocess.run(["bash", str(script), "--rtl"], capture_output=True, text=True, env=env)
    assert none.returncode == 2 and "fpgaflow build --rtl" in none.stderr


def test_axi_word_bits():
    assert [axi_word_bits(b) for b in (1, 8, 9, 56, 64, 65, 1024, 1025, 5000)] == [8, 8, 16, 64, 64, 128, 1024, 1024,
                                                                                   1024]


def test_build_bitstream_sh_is_valid_bash(request, tmp_path):
    script = _design_dir(request, tmp_path, "zcu104") / "board" / "build_bitstream.sh"
    assert os.access(script, os.X_OK)
    proc = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_build_bitstream_sh_without_the_tools(request, tmp_path):
    # Only vivado (fake) on PATH: the script names the missing vitis_hls and stops with 2.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_tool(bin_dir, "vivado", tmp_path / "tools.log", "")
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin"}
    if shutil.which("vitis_hls", path=env["PATH"]):
        pytest.skip("a real vitis_hls is on PATH")
    script = _design_dir(request, tmp_path, "pynq-z2") / "board" / "build_bitstream.sh"
    proc = subprocess.run(["bash", str(script)], capture_output=True, text=True, env=env)
    assert proc.returncode == 2
    assert "vitis_hls is not on PATH" in proc.stderr and "settings64.sh" in proc.stderr
    assert not (tmp_path / "tools.log").exists()


# What the fake tools leave behind, as a real run would: the exported IP, and the overlay in driver/.
HLS_OUTPUT = "mkdir -p fpgaflow_top_prj/solution1/impl/ip && touch fpgaflow_top_prj/solution1/impl/ip/component.xml"
VIVADO_OUTPUT = "mkdir -p ../driver && echo BIT > ../driver/fpgaflow.bit && echo HWH > ../driver/fpgaflow.hwh"


def _fake_tool(bin_dir: Path, name: str, record: Path, body: str) -> None:
    """A fake vendor tool on PATH that appends "name|cwd|args" to ``record`` and runs ``body``."""
    tool = bin_dir / name
    tool.write_text(f'#!/bin/bash\necho "{name}|$PWD|$*" >> "{record}"\necho "{name} running"\n{body}\n')
    tool.chmod(0o755)


def _fake_tools(tmp_path: Path, hls_body: str = HLS_OUTPUT, vivado_body: str = VIVADO_OUTPUT) -> tuple[Path, Path]:
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    record = tmp_path / "tools.log"
    _fake_tool(bin_dir, "vitis_hls", record, hls_body)
    _fake_tool(bin_dir, "vivado", record, vivado_body)
    return bin_dir, record


@pytest.mark.skipif(_has_real_tools(), reason="real Xilinx tools on PATH")
def test_cli_bitstream_with_the_tools(models_dir, tmp_path, monkeypatch):
    bin_dir, record = _fake_tools(tmp_path)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    out = tmp_path / "out"
    proc = _cli_build(models_dir / "TFC_1W1A.onnx", out)
    assert proc.returncode == 0, proc.stderr
    runs = [line.split("|") for line in record.read_text().splitlines()]
    assert runs == [["vitis_hls", str(out / "hls"), "-f hls.tcl"],
                    ["vivado", str(out / "board"), "-mode batch -nojournal -nolog -source block_design.tcl"]]
    assert "vitis_hls running" in (out / "logs" / "vitis_hls.log").read_text()
    assert "vivado running" in (out / "logs" / "vivado.log").read_text()
    assert f"wrote {out / 'driver' / 'fpgaflow.bit'} and {out / 'driver' / 'fpgaflow.hwh'}" in proc.stdout


@pytest.mark.skipif(_has_real_tools(), reason="real Xilinx tools on PATH")
def test_cli_bitstream_from_rtl_runs_vivado_alone(models_dir, tmp_path, monkeypatch):
    """``fpgaflow build --bitstream --bitstream-from rtl``: writes rtl/, runs only Vivado, on the RTL script."""
    bin_dir, record = _fake_tools(tmp_path)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "fpgaflow", "build", models_dir / "TFC_1W1A.onnx", "--out", out,
                           "--no-csim", "--quiet", "--bitstream", "--bitstream-from", "rtl"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (out / "rtl" / "fpgaflow_top.v").is_file()
    runs = [line.split("|") for line in record.read_text().splitlines()]
    assert runs == [["vivado", str(out / "board"), "-mode batch -nojournal -nolog -source block_design_rtl.tcl"]]


def test_cli_bitstream_without_the_tools(built):
    out, proc = built
    assert proc.returncode == 0, proc.stderr
    assert "vitis_hls and vivado not on PATH" in proc.stdout
    assert f"bash {out / 'board' / 'build_bitstream.sh'}" in proc.stdout
    assert not (out / "logs").exists() and not (out / "driver" / "fpgaflow.bit").exists()


@pytest.mark.skipif(_has_real_tools(), reason="real Xilinx tools on PATH")
def test_run_bitstream_reports_a_failing_tool(request, tmp_path, monkeypatch):
    build = _design_dir(request, tmp_path, "zcu104")
    bin_dir, _ = _fake_tools(tmp_path, vivado_body="echo 'ERROR: [Place 30-640] out of LUTs'\nexit 1")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(UserError) as exc:
        run_bitstream(build)
    message = str(exc.value)
    assert "vivado failed (exit 1)" in message and str(build / "logs" / "vivado.log") in message
    assert "out of LUTs" in message


@pytest.mark.skipif(_has_real_tools(), reason="real Xilinx tools on PATH")
def test_run_bitstream_checks_the_overlay_was_written(request, tmp_path, monkeypatch):
    build = _design_dir(request, tmp_path, "zcu104")
    bin_dir, _ = _fake_tools(tmp_path, vivado_body="true")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(UserError, match="Vivado finished but wrote no .*fpgaflow.bit"):
        run_bitstream(build)


GOOD_BOARD = {"name": "myboard", "part": "xc7z020clg400-1", "board_part": "tul.com.tw:pynq-z2:part0:1.0",
              "ps": "ps7", "clock_mhz": 100, "resources": {"lut": 53200, "ff": 106400, "dsp": 220, "bram18": 280}}


@pytest.mark.parametrize("change, needles", [
    ({"ps": "ps8"}, ["ps:", "xc7z020clg400-1", "ps7"]),
    ({"part": "xczu3eg-sbva484-1-i"}, ["ps:", "ps8"]),
    ({"part": "xc7a35ticsg324-1L"}, ["part:", "not a Zynq"]),
    ({"board_part": "tul.com.tw:pynq-z2:1.0"}, ["board_part:", "vendor:board:part0:version"]),
    ({"board_part": "tul.com.tw:pynq z2:part0:1.0"}, ["board_part:"]),
    ({"clock_mhz": 300}, ["clock_mhz:", "300 MHz", "250 MHz", "ps7"]),
    ({"part": "xczu7ev-ffvc1156-2-e", "ps": "ps8", "clock_mhz": 400}, ["clock_mhz:", "400 MHz", "333.333 MHz"]),
    ({"board_part": None}, ["lacks board_part"]),
])
def test_bad_board_file(models_dir, tmp_path, change, needles):
    import yaml

    data = {k: v for k, v in {**GOOD_BOARD, **change}.items() if v is not None}
    board = tmp_path / "bad.yaml"
    board.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    rc, err = run_cli("build", models_dir / "TFC_1W1A.onnx", "--board", board, "--out", out, "--quiet")
    assert_user_error(rc, err, str(board), *needles)
    assert not out.exists()


def test_clock_above_what_the_ps_gives(models_dir, tmp_path):
    out = tmp_path / "out"
    rc, err = run_cli("build", models_dir / "TFC_1W1A.onnx", "--board", "pynq-z2", "--clock-mhz", "260", "--out", out,
                      "--quiet")
    assert_user_error(rc, err, "--clock-mhz", "260 MHz", "250 MHz")
    assert not out.exists()
