"""The lint pass over the generated C++ finds what Vitis HLS cannot synthesize, and passes on real builds."""

import shutil

import pytest

from conftest import build_model
from fpgaflow.codegen.lint import lint_hls, synthesis_text


@pytest.fixture(scope="module")
def clean_build(models_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("lint") / "b"
    build_model(models_dir / "TFC_2W2A.onnx", out)
    return out / "hls"


def test_generated_project_is_in_the_subset(clean_build):
    assert lint_hls(clean_build) == []


@pytest.mark.parametrize("snippet, finding", [
    ("int* p = new int[4];", "dynamic memory"),
    ("void* q = malloc(16);", "dynamic memory"),
    ("std::vector<int> v;", "STL container"),
    ("struct B { virtual int f(); };", "virtual function"),
    ("unsigned fact(unsigned n) { return n ? n * fact(n - 1) : 1; }", "calls itself"),
    ("void f() {\n#pragma HLS PIPELIN II = 1\n}", "unknown pragma"),
])
def test_each_violation_is_found(clean_build, tmp_path, snippet, finding):
    hls = tmp_path / "hls"
    shutil.copytree(clean_build, hls, ignore=shutil.ignore_patterns("csim_build"))
    header = hls / "fpgaflow" / "types.h"
    header.write_text(header.read_text().replace("namespace fpgaflow {", "namespace fpgaflow {\n" + snippet, 1))
    assert any(finding in p for p in lint_hls(hls)), lint_hls(hls)


def test_testbench_only_code_is_not_linted():
    text = "#ifndef __SYNTHESIS__\nint* p = new int;\n#else\nint a;\n#endif\nint b;"
    assert "new" not in synthesis_text(text) and "int a;" in synthesis_text(text)


def test_a_stream_with_two_readers_is_found(clean_build, tmp_path):
    hls = tmp_path / "hls"
    shutil.copytree(clean_build, hls, ignore=shutil.ignore_patterns("csim_build"))
    top = (hls / "top.cpp").read_text()
    first_stream = top.split("static fpgaflow::stream<fpgaflow::vec<")[1].split("> > ")[1].split("(")[0]
    call = [line for line in top.splitlines() if f"({first_stream}," in line or f", {first_stream}," in line][-1]
    (hls / "top.cpp").write_text(top.replace(call, call + "\n" + call))
    assert any(first_stream in p and "3 users" in p for p in lint_hls(hls)), lint_hls(hls)
