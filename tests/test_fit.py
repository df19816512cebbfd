"""Boards as data files, resource budgets, and folding that respects them."""

import json
import subprocess
import sys

import yaml

from conftest import build_model
from fpgaflow.boards import load_board
from test_errors import assert_user_error, run_cli

BOARDS = ("kv260", "pynq-z1", "pynq-z2", "ultra96-v2", "zcu104")


def test_boards_lists_the_shipped_boards():
    proc = subprocess.run([sys.executable, "-m", "fpgaflow", "boards"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert [line.split()[0] for line in proc.stdout.splitlines()] == list(BOARDS)
    for name in BOARDS:
        board = load_board(name)
        assert board.ps == ("ps7" if name.startswith("pynq") else "ps8")
        assert board.resources["lut"] > 0 and board.part


def _small_board(tmp_path, lut: int, name: str = "tiny"):
    data = yaml.safe_load(_board_file("pynq-z2").read_text())
    data["name"] = name
    data["resources"]["lut"] = lut
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _board_file(name):
    from fpgaflow.boards import boards_dir

    return boards_dir() / f"{name}.yaml"


def test_model_too_big_for_the_board_even_fully_folded(models_dir, tmp_path):
    board = _small_board(tmp_path, lut=500)
    rc, err = run_cli("build", models_dir / "TFC_2W2A.onnx", "--board", board, "--out", tmp_path / "out", "--quiet")
    assert_user_error(rc, err, "does not fit tiny", "LUT", "largest layers: MatMul_")


def test_folding_relaxes_the_target_to_fit(models_dir, tmp_path):
    """A LUT budget that the 1.5 M FPS folding exceeds: the build folds slower, fits and says so."""
    fast = build_model(models_dir / "TFC_1W1A.onnx", tmp_path / "fast", target_fps=1_500_000)
    lut_needed = fast["totals"]["lut"]
    board = _small_board(tmp_path, lut=int(lut_needed * 0.6 / 0.8))
    report = build_model(models_dir / "TFC_1W1A.onnx", tmp_path / "slow", target_fps=1_500_000,
                         board=board)
    assert report["fits"]
    assert report["totals"]["lut"] <= report["budget"]["lut"]
    assert report["fps"] < 1_500_000
    assert any("does not fit" in note for note in report["notes"])
    saved = json.loads((tmp_path / "slow" / "report.json").read_text())
    assert saved["cycles"]["source"] == "simulation"
