"""Pruning to a throughput target: per-layer sparsities chosen so the built accelerator meets N frames/s.

The trained dense model is tried first. If its build (folded to the target within the board's
resources, as ``fpgaflow build`` folds it) misses the target, the per-layer sensitivity table
proposes sparsities for growing accuracy budgets (the highest sparsity per layer costing at most
0.5%, 1%, 2%, ... of accuracy when pruned alone); each proposal is pruned one-shot, fine-tuned,
slimmed and exported, and its hardware is predicted by fpgaflow's folding, resource estimates
and cycle simulation. The search stops at the first candidate that meets the target: the
smallest accuracy budget; a few budgets between it and the last miss are tried too, and the
most accurate candidate that meets the target is kept. Accuracies here are measured on
validation data held out from training (see :mod:`fpgaflow.train.flow`), not the test set.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from fpgaflow.boards import Board
from fpgaflow.build import BuildOptions, predict_hardware
from fpgaflow.errors import UserError
from fpgaflow.train import pruning
from fpgaflow.train.datasets import Dataset
from fpgaflow.train.export import export_onnx
from fpgaflow.train.sensitivity import Sensitivity, choose_sparsities
from fpgaflow.train.slim import slim
from fpgaflow.train.trainer import TrainConfig, Trainer, accuracy

log = logging.getLogger(__name__)

#: Accuracy budgets (drop when one layer alone is pruned) tried in turn.
DEFAULT_DROPS = (0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 1.0)


@dataclass
class Candidate:
    """One model tried by the search."""

    name: str
    sparsity: list[float]
    accuracy: float
    onnx: str
    fps: float = 0.0
    lut: int = 0
    ff: int = 0
    dsp: int = 0
    bram18: int = 0
    fits: bool = False
    meets: bool = False
    chosen: bool = False
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-friendly form."""
        return asdict(self)


def evaluate(model, name: str, sparsity: list[float], data: Dataset, options: BuildOptions,
             target_fps: float, work_dir: Path) -> tuple[Candidate, object]:
    """Slim and export ``model`` into ``work_dir``, predict its hardware; the candidate and slim model."""
    slimmed, _ = slim(model)
    onnx = export_onnx(slimmed, work_dir / "model.onnx")
    cand = Candidate(name, [round(s, 4) for s in sparsity], accuracy(slimmed, data.x_test, data.y_test), str(onnx))
    try:
        hw = predict_hardware(onnx, options, work_dir / "hw")
    except UserError as exc:  # does not fit the board even fully folded
        cand.notes = [str(exc)]
        return cand, slimmed
    cand.fps, cand.fits, cand.notes = hw["fps"], hw["fits"], hw["notes"]
    cand.lut, cand.ff, cand.dsp, cand.bram18 = hw["lut"], hw["ff"], hw["dsp"], hw["bram18"]
    cand.meets = cand.fits and cand.fps >= target_fps * (1 - 1e-9)
    return cand, slimmed


def _recorder(tried: list, on_candidate: Callable[[Candidate], None] | None) -> Callable[[Candidate], None]:
    """A function that keeps, logs and announces each evaluated candidate."""
    def record(cand: Candidate) -> None:
        tried.append(cand)
        log.info("%s: accuracy %.4f, %.0f frames/s, LUT %d, DSP %d, %s", cand.name, cand.accuracy, cand.fps,
                 cand.lut, cand.dsp, "meets the target" if cand.meets else "misses the target")
        if on_candidate:
            on_candidate(cand)
    return record


def search_target_fps(model, data: Dataset, table: Sensitivity, board: Board, target_fps: float,
                      work_dir: str | Path, config: TrainConfig, finetune_epochs: int = 3,
                      clock_mhz: float | None = None, drops: tuple[float, ...] = DEFAULT_DROPS,
                      on_candidate: Callable[[Candidate], None] | None = None, refine: int = 2,
                      progress: bool = False) -> tuple[object | None, list[Candidate]]:
    """Find per-layer sparsities whose build meets ``target_fps`` on ``board``.

    Args:
        model: the trained dense network (not modified).
        data: training and test data (fine-tuning and accuracy).
        table: the model's sensitivity analysis (its method is the pruning method used).
        board, target_fps, clock_mhz: what the accelerator must reach; each candidate's QONNX and
            simulation files go to ``work_dir/<name>``.
        config, finetune_epochs: the fine-tuning's optimiser (its ``epochs`` ignored) and epochs.
        drops: accuracy budgets to try, in order.
        refine: after the first budget that meets the target, up to this many budgets halfway
            between it and the last one that missed; the most accurate candidate that meets wins.
        on_candidate: called with each candidate as soon as it is evaluated.

    Returns:
        The slimmed model of the chosen candidate (None when even the most aggressive candidate
        misses the target) and every candidate tried, in order (the chosen one has ``chosen``).
    """
    work_dir = Path(work_dir)
    options = BuildOptions(board=board, out_dir=work_dir, clock_mhz=clock_mhz, target_fps=target_fps, csim=False)
    layers = len(model.compute_layers())
    tried: list[Candidate] = []

    record = _recorder(tried, on_candidate)
    cand, best = evaluate(copy.deepcopy(model), "dense", [0.0] * layers, data, options, target_fps, work_dir / "dense")
    record(cand)
    if cand.meets:
        cand.chosen = True
        return best, tried
    seen: set[tuple[float, ...]] = set()

    def attempt(drop: float):
        """Prune for the accuracy budget ``drop``; None if it proposes nothing new."""
        sparsities = choose_sparsities(table, layers, drop)
        if tuple(sparsities) in seen or not any(sparsities):
            return None
        seen.add(tuple(sparsities))
        trial = copy.deepcopy(model)
        prune = pruning.PruneConfig(method=table.method, sparsity=tuple(sparsities), schedule="oneshot",
                                    finetune_epochs=finetune_epochs)
        Trainer(trial, data, TrainConfig(**{**asdict(config), "epochs": 0}), prune, progress=progress).run()
        cand, slimmed = evaluate(trial, f"drop{drop:g}", sparsities, data, options, target_fps,
                                 work_dir / f"drop{drop:g}")
        record(cand)
        return cand, slimmed

    best = _search_budgets(attempt, drops, refine)
    if best is None:
        return None, tried
    best[0].chosen = True
    return best[1], tried


def _search_budgets(attempt: Callable, drops: tuple[float, ...], refine: int):
    """The first accuracy budget in ``drops`` whose ``attempt`` meets the target, refined up to
    ``refine`` times halfway towards the last one that missed; the most accurate that meets, or None."""
    missed = 0.0
    for drop in drops:
        result = attempt(drop)
        if result is None:
            continue
        if not result[0].meets:
            missed = drop
            continue
        best = result
        for _ in range(refine):  # budgets between the last miss and this hit may keep more accuracy
            mid = round((missed + drop) / 2, 4)
            trial = attempt(mid)
            if trial is None:
                break
            if trial[0].meets:
                drop = mid
                if trial[0].accuracy > best[0].accuracy:
                    best = trial
            else:
                missed = mid
        return best
    return None
