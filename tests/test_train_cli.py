"""Checkpoint/resume of fpgaflow.train.Trainer, and the ``fpgaflow train`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from fpgaflow.cli import main
from fpgaflow.train.datasets import digits
from fpgaflow.train.pruning import PruneConfig
from fpgaflow.train.recipes import Recipe, build_model
from fpgaflow.train.trainer import TrainConfig, Trainer, load_checkpoint
from brevitas_mlps import weight_codes
from qonnx_run import run_qonnx

RECIPE = Recipe(hidden=(32, 16), weight="int", weight_bits=3, act_bits=3)


@pytest.fixture(scope="module")
def data():
    return digits()


class Interrupted(Exception):
    pass


def fresh(data, seed: int = 0):
    torch.manual_seed(seed)
    return build_model(RECIPE, data.image_shape, data.num_classes)


def interrupted_then_resumed(data, config, prune, checkpoint, stop_after: int):
    """Run until the ``stop_after``-th checkpoint is written, then restore it into a fresh trainer."""
    first = Trainer(fresh(data), data, config, prune, checkpoint, progress=False)
    saves = []
    real_save = first.save

    def save():
        real_save()
        saves.append((first.phase, first.epoch))
        if len(saves) == stop_after:
            raise Interrupted

    first.save = save
    with pytest.raises(Interrupted):
        first.run()
    state = load_checkpoint(checkpoint)
    assert (state["phase"], state["epoch"]) == saves[-1]

    second = Trainer(fresh(data, seed=123), data, config, prune, checkpoint, progress=False)
    second.restore(state)
    return second, second.run(), saves[-1]


def assert_same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


def test_resume_dense(tmp_path, data):
    config = TrainConfig(epochs=3, threads=1, seed=5)
    full = Trainer(fresh(data), data, config, None, tmp_path / "full.pt", progress=False)
    reference = full.run()
    trainer, resumed, stopped = interrupted_then_resumed(data, config, None, tmp_path / "cut.pt", stop_after=1)
    assert stopped == ("train", 1)
    assert_same_state(reference, resumed)
    assert trainer.history == full.history
    np.testing.assert_array_equal(load_checkpoint(tmp_path / "cut.pt")["model"]["body.1.weight"].numpy(),
                                  reference.state_dict()["body.1.weight"].numpy())


@pytest.mark.parametrize("prune", [
    pytest.param(PruneConfig("magnitude", 0.6, "gradual", finetune_epochs=3, ramp_epochs=2, updates_per_epoch=3),
                 id="gradual-magnitude"),
    pytest.param(PruneConfig("filters", 0.5, "oneshot", finetune_epochs=2), id="oneshot-filters"),
])
def test_resume_inside_pruning(tmp_path, data, prune):
    config = TrainConfig(epochs=1, threads=1, seed=2)
    full = Trainer(fresh(data), data, config, prune, None, progress=False)
    reference = full.run()
    # checkpoint 2 is after the first pruning epoch (gradual: masks half-way up the ramp)
    trainer, resumed, stopped = interrupted_then_resumed(data, config, prune, tmp_path / "cut.pt", stop_after=2)
    assert stopped == ("prune", 1)
    if prune.schedule == "gradual":
        assert 0 < trainer.history[1]["sparsity"][0] < 0.6 - 1e-3
    assert [r["sparsity"] for r in trainer.history[1:]] == [r["sparsity"] for r in full.history[1:]]
    assert_same_state(reference, resumed)


def test_restore_refuses_other_settings(tmp_path, data):
    Trainer(fresh(data), data, TrainConfig(epochs=1, threads=1), None, tmp_path / "c.pt", progress=False).run()
    other = Trainer(fresh(data), data, TrainConfig(epochs=2, threads=1), None, None, progress=False)
    with pytest.raises(ValueError, match="another recipe, training or pruning"):
        other.restore(load_checkpoint(tmp_path / "c.pt"))


# ---- the command line -------------------------------------------------------------------------------


def invoke(*args):
    result = CliRunner().invoke(main, ["train", *map(str, args)])
    try:
        stderr = result.stderr
    except ValueError:  # click < 8.2 mixes stderr into output
        stderr = ""
    text = result.output + stderr
    assert "Traceback" not in text
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"unexpected {type(result.exception).__name__}: {result.exception}\n{text}")
    return result.exit_code, text


def test_cli_train_and_resume_guard(tmp_path, data):
    out = tmp_path / "run"
    code, text = invoke("--epochs", 1, "--hidden", 16, "--out", out, "--quiet")
    assert code == 0, text
    for name in ("model.onnx", "train.json", "checkpoint.pt"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "train.json").read_text())
    assert summary["dataset"] == "digits"
    assert summary["recipe"]["hidden"] == [16]
    assert len(summary["history"]) == 1
    # the reported accuracy is the exported model's, as qonnx computes it on the test set
    logits = run_qonnx(out / "model.onnx", data.x_test.reshape(len(data.x_test), -1))
    assert summary["test_accuracy"] == pytest.approx(float((logits.argmax(1) == data.y_test).mean()), abs=1e-9)
    # the zero fraction of the integer weight codes, as read back from the QONNX file
    codes = weight_codes(out / "model.onnx")
    assert summary["code_sparsity"] == pytest.approx([float((c == 0).mean()) for c in codes], abs=1e-9)
    state = load_checkpoint(out / "checkpoint.pt")
    assert (state["phase"], state["epoch"]) == ("train", 1)

    before = (out / "checkpoint.pt").read_bytes()
    code, text = invoke("--epochs", 1, "--hidden", 16, "--out", out, "--quiet")
    assert code == 2, text
    assert "--resume" in text
    assert (out / "checkpoint.pt").read_bytes() == before

    # resuming a finished run with the same options finishes again with the same model
    code, text = invoke("--epochs", 1, "--hidden", 16, "--out", out, "--quiet", "--resume")
    assert code == 0, text
    assert json.loads((out / "train.json").read_text())["test_accuracy"] == summary["test_accuracy"]
    # ... and with other options it is refused
    code, text = invoke("--epochs", 2, "--hidden", 16, "--out", out, "--quiet", "--resume")
    assert code == 2, text
    assert "--resume" in text


def test_cli_resume_empty_dir(tmp_path):
    (tmp_path / "empty").mkdir()
    code, text = invoke("--epochs", 1, "--hidden", 16, "--out", tmp_path / "empty", "--quiet", "--resume")
    assert code == 2
    assert "--resume" in text and "checkpoint.pt" in text
    code, text = invoke("--epochs", 1, "--hidden", 16, "--out", tmp_path / "absent", "--quiet", "--resume")
    assert code == 2
    assert not (tmp_path / "absent").exists()


@pytest.mark.parametrize("args, needles", [
    (["--weight", "foo"], ["--weight", "foo"]),
    (["--weight-bits", "x"], ["--weight-bits"]),
    (["--dataset", "nope"], ["--dataset", "nope"]),
    (["--prune", "magnitude", "--weight", "binary", "--weight-bits", "1", "--act-bits", "1"], ["--prune", "binar"]),
    (["--hidden", "16,8", "--weight-bits", "2,2"], ["--weight-bits", "2 values for 3 layers"]),
], ids=["weight", "weight-bits", "dataset", "prune-binary", "per-layer-length"])
def test_cli_user_errors(tmp_path, args, needles):
    out = tmp_path / "out"
    code, text = invoke("--epochs", 1, "--hidden", 16, "--out", out, "--quiet", *args)
    assert code == 2, text
    for needle in needles:
        assert needle in text, text
    assert "internal error" not in text
    assert not (out / "checkpoint.pt").exists() and not (out / "model.onnx").exists()


def test_cli_refuses_foreign_folder(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "data.bin").write_bytes(b"\x00\x01")
    before = sorted((p.relative_to(folder), p.read_bytes() if p.is_file() else None) for p in folder.rglob("*"))
    code, text = invoke("--epochs", 1, "--hidden", 16, "--out", folder, "--quiet")
    assert code == 2, text
    assert "--out" in text and "not an fpgaflow train folder" in text
    after = sorted((p.relative_to(folder), p.read_bytes() if p.is_file() else None) for p in folder.rglob("*"))
    assert after == before
