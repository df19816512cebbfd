"""``fpgaflow train``: data -> Brevitas QAT (+ pruning, sensitivity, target search) -> slim -> QONNX.

Everything a run writes goes into its output folder:

``checkpoint.pt``
    the resumable training state (after every epoch);
``model.onnx``
    the slimmed, exported QONNX model, ready for ``fpgaflow build``;
``train.json``
    data set, recipe, settings, per-epoch history, accuracy, per-layer widths, the fraction of zero
    weights (``sparsity``) and of zero integer weight codes (``code_sparsity``) per layer;
``sensitivity.csv``, ``sensitivity.png``
    the per-layer sensitivity analysis (``--sensitivity`` or ``--target-fps``);
``candidates/``, ``build/``
    with ``--target-fps``: every candidate tried, and the full build of the chosen one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from fpgaflow.boards import load_board
from fpgaflow.errors import UserError
from fpgaflow.train import pruning
from fpgaflow.train.datasets import load_dataset
from fpgaflow.train.export import export_onnx
from fpgaflow.train.pruning import PruneConfig
from fpgaflow.train.recipes import Recipe, build_model
from fpgaflow.train.sensitivity import DEFAULT_GRID, format_sensitivity, sensitivity, write_sensitivity
from fpgaflow.train.slim import slim
from fpgaflow.train.trainer import TrainConfig, Trainer, accuracy, load_checkpoint, torch_threads

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"
_OUR_MARKERS = (CHECKPOINT, "train.json", "model.onnx")


@dataclass
class TrainOptions:
    """What ``fpgaflow train`` was asked for (see the command's help for each)."""

    out_dir: Path
    dataset: str = "digits"
    data_dir: Path | None = None
    recipe: Recipe = field(default_factory=Recipe)
    config: TrainConfig = field(default_factory=TrainConfig)
    prune: PruneConfig | None = None
    sensitivity: bool = False
    sensitivity_grid: tuple[float, ...] = DEFAULT_GRID
    board: str = "pynq-z2"
    target_fps: float | None = None
    clock_mhz: float | None = None
    finetune_epochs: int = 3  # per target-search candidate
    validation: float = 0.1  # training data held out to choose sparsities (sensitivity, target search)
    resume: bool = False
    progress: bool = True


def check_out_dir(out_dir: Path, resume: bool) -> None:
    """Refuse a folder that is not ours, and a checkpoint that would be overwritten without ``--resume``."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out {out_dir}: exists and is not a directory")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not any((out_dir / m).exists() for m in _OUR_MARKERS):
        raise UserError(f"--out {out_dir}: folder exists and is not an fpgaflow train folder; choose a new one")
    if resume and not (out_dir / CHECKPOINT).is_file():
        raise UserError(f"--resume: no {out_dir / CHECKPOINT} to resume from")
    if not resume and (out_dir / CHECKPOINT).is_file():
        raise UserError(f"--out {out_dir}: holds a checkpoint of an earlier run; pass --resume to continue it, "
                        "or choose another --out")


def seeded_model(recipe: Recipe, data, seed: int):
    """A fresh network whose initial weights depend on ``seed`` only (torch's global RNG is untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        try:
            return build_model(recipe, data.image_shape, data.num_classes)
        except ValueError as exc:
            raise UserError(f"--arch/--conv/--hidden: {exc}") from None


def run(options: TrainOptions, echo: Callable[[str], None] = log.info) -> dict:
    """Train, prune, search and export as ``options`` says; write the output folder; return train.json."""
    out = Path(options.out_dir)
    check_out_dir(out, options.resume)
    board = load_board(options.board) if options.target_fps is not None else None
    if options.target_fps is not None and options.target_fps <= 0:
        raise UserError(f"--target-fps {options.target_fps}: must be positive")
    data = load_dataset(options.dataset, options.data_dir)
    choosing = options.sensitivity or options.target_fps is not None
    val = None
    if choosing:  # choices are made on held-out training data, never on the test set
        data, val = data.holdout(options.validation, options.config.seed)
    model = seeded_model(options.recipe, data, options.config.seed)
    # with a frame-rate target the search chooses the sparsities: the run itself trains dense
    prune = options.prune if options.target_fps is None else None
    try:
        trainer = Trainer(model, data, options.config, prune, out / CHECKPOINT, options.progress)
    except ValueError as exc:
        raise UserError(f"--prune/--sparsity: {exc}") from None
    if options.resume:
        try:
            trainer.restore(load_checkpoint(out / CHECKPOINT))
        except ValueError as exc:
            raise UserError(f"--resume: {exc}") from None
        echo(f"resuming {out / CHECKPOINT} after {trainer.phase} epoch {trainer.epoch}")
    out.mkdir(parents=True, exist_ok=True)
    model = trainer.run(stop_after="train")  # the dense model, which the sensitivity analysis looks at
    echo(f"trained: test accuracy {accuracy(model, data.x_test, data.y_test):.4f}")
    summary = {"dataset": data.name, "recipe": options.recipe.to_dict(), "config": asdict(options.config),
               "prune": asdict(prune) if prune else None}
    table = None
    if choosing:
        # filter pruning by default: removed neurons shrink the dense layers, which is what a
        # throughput target needs (zero-skipping layers pay for their any-input multiplexers)
        method = options.prune.method if options.prune else "filters"
        with torch_threads(options.config.threads):
            table = sensitivity(model, val.x_test, val.y_test, method, options.sensitivity_grid)
        write_sensitivity(table, out)
        summary["sensitivity"] = table.to_dict()
        echo("sensitivity (validation accuracy with one layer pruned):\n" + format_sensitivity(table))
    if prune is not None:
        model = trainer.run()
        echo(f"pruned: test accuracy {accuracy(model, data.x_test, data.y_test):.4f}")
    summary["history"] = trainer.history
    if options.target_fps is not None:
        model = _search(model, val, table, board, options, summary, echo)
    else:
        model, _ = slim(model)
    _export(model, data, out, summary, echo)
    if options.target_fps is not None:
        _final_build(out, board, options, summary, echo)
    (out / "train.json").write_text(json.dumps(summary, indent=2))
    return summary


def _search(model, val, table, board, options: TrainOptions, summary: dict, echo) -> object:
    from fpgaflow.train.target import search_target_fps

    def show(c):
        echo(f"candidate {c.name:<10} sparsity {'/'.join(f'{s:.2f}' for s in c.sparsity)}  validation accuracy {c.accuracy:.4f}  "
             f"{c.fps:>12,.0f} frames/s  LUT {c.lut:>6,}  DSP {c.dsp:>3}  BRAM18 {c.bram18:>3}  "
             f"{'meets' if c.meets else 'misses'} {options.target_fps:,.0f}")

    echo(f"searching per-layer sparsities for {options.target_fps:,.0f} frames/s on {board.name}")
    with torch_threads(options.config.threads):
        best, tried = search_target_fps(model, val, table, board, options.target_fps, options.out_dir / "candidates",
                                        options.config, options.finetune_epochs, options.clock_mhz,
                                        on_candidate=show)
    summary["candidates"] = [c.to_dict() for c in tried]
    if best is None:
        (options.out_dir / "train.json").write_text(json.dumps(summary, indent=2))
        fastest = max(tried, key=lambda c: c.fps)
        raise UserError(f"--target-fps {options.target_fps:,.0f}: no candidate meets it on {board.name}; the fastest, "
                        f"{fastest.name} (sparsities {fastest.sparsity}), reaches {fastest.fps:,.0f} frames/s "
                        f"(all candidates: {options.out_dir / 'train.json'}). Lower the target, use narrower layers "
                        "or fewer bits, or a larger board")
    chosen = next(c for c in tried if c.chosen)
    summary["chosen"] = chosen.name
    echo(f"chosen: {chosen.name} (validation accuracy {chosen.accuracy:.4f}, {chosen.fps:,.0f} frames/s)")
    return best


def _export(model, data, out: Path, summary: dict, echo) -> None:
    summary["test_accuracy"] = accuracy(model, data.x_test, data.y_test)
    summary["sparsity"] = pruning.layer_sparsity(model)  # zero float weights (pruned)
    with torch.no_grad():  # zero integer codes: what the hardware skips (quantization adds zeros)
        summary["code_sparsity"] = [int((l.quant_weight().value == 0).sum()) / l.weight.numel()
                                    for l in model.compute_layers()]
    summary["widths"] = [int(l.weight.shape[0]) for l in model.compute_layers()]
    summary["nonzero_weights"] = int(sum(int((l.weight.detach() != 0).sum()) for l in model.compute_layers()))
    export_onnx(model, out / "model.onnx")
    np.savez(out / "test_data.npz", x=data.x_test.reshape((len(data.x_test),) + model.input_shape),
             y=data.y_test)
    echo(f"wrote {out / 'model.onnx'}: test accuracy {summary['test_accuracy']:.4f}, widths {summary['widths']}, "
         f"sparsity {'/'.join(f'{s:.2f}' for s in summary['sparsity'])}")


def _final_build(out: Path, board, options: TrainOptions, summary: dict, echo) -> None:
    from fpgaflow.build import BuildOptions, build

    build_dir = out / "build"
    report = build(out / "model.onnx", BuildOptions(board=board, out_dir=build_dir, clock_mhz=options.clock_mhz,
                                                     target_fps=options.target_fps))
    summary["build"] = {"dir": str(build_dir), "fps": report["fps"], "resources": report.get("totals"),
                        "csim_bit_exact": (report.get("csim") or {}).get("bit_exact"),
                        "meets_target": report["fps"] >= options.target_fps * (1 - 1e-9)}
    echo(f"built {build_dir}: {report['fps']:,.0f} frames/s by cycle simulation "
         f"({'meets' if summary['build']['meets_target'] else 'MISSES'} {options.target_fps:,.0f}); "
         f"C simulation bit-exact: {summary['build']['csim_bit_exact']}")
