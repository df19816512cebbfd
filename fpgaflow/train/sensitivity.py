"""Per-layer pruning sensitivity: accuracy when one layer alone is pruned, at several sparsities.

Like Distiller's sensitivity analysis: each prunable layer is pruned one-shot (no fine-tuning) to
each sparsity of a grid while the others stay dense, and the accuracy is measured. The table
guides the per-layer sparsities: :func:`choose_sparsities` gives each layer the highest sparsity
that costs at most a given accuracy drop.
"""

from __future__ import annotations

import copy
import csv
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fpgaflow.train import pruning
from fpgaflow.train.trainer import accuracy

log = logging.getLogger(__name__)

DEFAULT_GRID = (0.25, 0.5, 0.7, 0.8, 0.9, 0.95)


@dataclass
class Sensitivity:
    """Accuracy per (layer, sparsity); layers that cannot be pruned are left out."""

    method: str
    dense_accuracy: float
    grid: tuple[float, ...]
    accuracy: dict[int, list[float]] = field(default_factory=dict)  # layer index -> one per grid value

    def to_dict(self) -> dict:
        """JSON-friendly form."""
        return {"method": self.method, "dense_accuracy": self.dense_accuracy, "grid": list(self.grid),
                "accuracy": {str(k): v for k, v in self.accuracy.items()}}


def prunable_indices(model, method: str) -> list[int]:
    """Compute layers ``method`` may prune alone (see :func:`fpgaflow.train.pruning.check_prunable`)."""
    n = len(model.compute_layers())
    ok = []
    for i in range(n - 1 if method in pruning.STRUCTURED else n):
        try:
            pruning.check_prunable(model, [0.5 if j == i else 0.0 for j in range(n)], method)
        except ValueError:
            continue
        ok.append(i)
    return ok


def sensitivity(model, x: np.ndarray, y: np.ndarray, method: str = "magnitude",
                grid: tuple[float, ...] = DEFAULT_GRID) -> Sensitivity:
    """Accuracy on ``(x, y)`` with each prunable layer alone pruned to each sparsity of ``grid``."""
    n = len(model.compute_layers())
    result = Sensitivity(method, accuracy(model, x, y), tuple(grid))
    for i in prunable_indices(model, method):
        row = []
        for s in grid:
            trial = copy.deepcopy(model)
            sparsities = [0.0] * n
            sparsities[i] = s
            pruning.prune_to(trial, method, sparsities)
            row.append(accuracy(trial, x, y))
        result.accuracy[i] = row
        log.info("layer %d: %s", i, ", ".join(f"{s:.0%}: {a:.3f}" for s, a in zip(grid, row)))
    return result


def choose_sparsities(table: Sensitivity, layers: int, max_drop: float) -> list[float]:
    """Per layer, the highest sparsity of the grid whose accuracy drop is at most ``max_drop``."""
    out = [0.0] * layers
    for i, row in table.accuracy.items():
        ok = [s for s, a in zip(table.grid, row) if table.dense_accuracy - a <= max_drop]
        out[i] = max(ok, default=0.0)
    return out


def write_sensitivity(table: Sensitivity, out_dir: str | Path) -> list[Path]:
    """Write ``sensitivity.csv`` and the plot ``sensitivity.png`` (accuracy vs sparsity per layer)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / "sensitivity.csv"
    with csv_path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["layer"] + [f"{s:g}" for s in table.grid])
        writer.writerow(["dense"] + [f"{table.dense_accuracy:.4f}"] * len(table.grid))
        for i, row in table.accuracy.items():
            writer.writerow([f"layer{i}"] + [f"{a:.4f}" for a in row])
    png = out_dir / "sensitivity.png"
    plot_sensitivity(table, png)
    return [csv_path, png]


def plot_sensitivity(table: Sensitivity, path: str | Path) -> None:
    """Accuracy vs sparsity, one line per layer, the dense accuracy dashed."""
    from matplotlib.figure import Figure  # no pyplot: the caller's backend (e.g. a notebook's) is left alone

    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for i, row in table.accuracy.items():
        ax.plot(table.grid, row, marker="o", label=f"layer{i}")
    ax.axhline(table.dense_accuracy, color="grey", linestyle="--", label="dense")
    ax.set_xlabel(f"sparsity of one layer ({table.method} pruning, no fine-tuning)")
    ax.set_ylabel("accuracy")
    ax.set_title("Pruning sensitivity per layer")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def format_sensitivity(table: Sensitivity) -> str:
    """A plain-text table (layers as rows, sparsities as columns)."""
    head = "layer    " + "".join(f"{s:>8.0%}" for s in table.grid)
    rows = [f"{'dense':<9}" + f"{table.dense_accuracy:>8.3f}" * len(table.grid)]
    rows += [f"{'layer' + str(i):<9}" + "".join(f"{a:>8.3f}" for a in row) for i, row in table.accuracy.items()]
    return "\n".join([head] + rows)
