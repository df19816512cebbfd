"""Malformed or unsupported input exits 2 with a one-line reason naming the node, path or option."""

import subprocess
import sys

import pytest

import onnx_builders


def run_cli(*args, cwd=None):
    proc = subprocess.run([sys.executable, "-m", "fpgaflow", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)
    return proc.returncode, proc.stderr.strip()


def assert_user_error(rc, stderr, *needles):
    assert rc == 2, stderr
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    for needle in needles:
        assert needle in lines[0], stderr


def test_dilated_conv(tmp_path):
    model = onnx_builders.conv_model(tmp_path / "conv.onnx", dilation=2)
    rc, err = run_cli("build", model, "--out", tmp_path / "out", "--quiet")
    assert_user_error(rc, err, "Conv_0", "(Conv)", "dilation")


def test_residual_add_with_float_scales(tmp_path):
    model = onnx_builders.scaled_add_model(tmp_path / "add.onnx")
    rc, err = run_cli("build", model, "--out", tmp_path / "out", "--quiet")
    assert_user_error(rc, err, "Add_0", "(Add)", "power-of-two")


def test_unsupported_operator(tmp_path):
    model = onnx_builders.softmax_model(tmp_path / "softmax.onnx")
    rc, err = run_cli("build", model, "--out", tmp_path / "out", "--quiet")
    assert_user_error(rc, err, "Softmax_0", "(Softmax)", "not supported")


def test_float_weight_without_quant(tmp_path):
    model = onnx_builders.float_weight_model(tmp_path / "fw.onnx")
    rc, err = run_cli("build", model, "--out", tmp_path / "out", "--quiet")
    assert_user_error(rc, err, "MatMul_0", "float with no Quant")


def test_unquantized_activation(tmp_path):
    model = onnx_builders.unquantized_input_model(tmp_path / "uq.onnx")
    rc, err = run_cli("build", model, "--out", tmp_path / "out", "--quiet")
    assert_user_error(rc, err, "MatMul_0", "not quantized")


def test_not_onnx(tmp_path):
    bogus = tmp_path / "notes.onnx"
    bogus.write_text("this is not a protobuf\n" * 10)
    rc, err = run_cli("build", bogus, "--out", tmp_path / "out", "--quiet")
    assert_user_error(rc, err, str(bogus), "not an ONNX model")


def test_missing_file(tmp_path):
    rc, err = run_cli("build", tmp_path / "nope.onnx", "--out", tmp_path / "out", "--quiet")
    assert_user_error(rc, err, "nope.onnx", "no such file")


def test_unknown_board(models_dir, tmp_path):
    rc, err = run_cli("build", models_dir / "TFC_1W1A.onnx", "--board", "zedboard-x", "--out", tmp_path / "o")
    assert_user_error(rc, err, "--board zedboard-x", "pynq-z2")


def test_out_dir_that_is_not_a_build_dir_is_left_alone(models_dir, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    rc, err = run_cli("build", models_dir / "TFC_1W1A.onnx", "--out", mine, "--quiet")
    assert_user_error(rc, err, "--out", "not an fpgaflow build directory")
    assert sorted(p.name for p in mine.iterdir()) == ["thesis.tex"]


@pytest.mark.parametrize("args, needle", [(["--target-fps", "-5"], "--target-fps"),
                                          (["--clock-mhz", "0"], "--clock-mhz"),
                                          (["--target-fps", "0"], "--target-fps"),
                                          (["--target-cycles", "0"], "--target-cycles"),
                                          (["--target-cycles", "9", "--target-fps", "9"], "give one of them")])
def test_bad_numbers(models_dir, tmp_path, args, needle):
    rc, err = run_cli("build", models_dir / "TFC_1W1A.onnx", "--out", tmp_path / "o", "--quiet", *args)
    assert_user_error(rc, err, needle)


def test_csim_on_a_folder_that_is_not_a_build(tmp_path):
    import numpy as np

    np.save(tmp_path / "x.npy", np.zeros((2, 4), np.float32))
    rc, err = run_cli("csim", tmp_path, "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy")
    assert_user_error(rc, err, "not an fpgaflow build directory")


def test_boards_lists_pynq_z2():
    proc = subprocess.run([sys.executable, "-m", "fpgaflow", "boards"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert "pynq-z2" in proc.stdout and "xc7z020clg400-1" in proc.stdout and "53,200" in proc.stdout
