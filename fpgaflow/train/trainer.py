"""The training loop: seeded mini-batch Adam with a cosine schedule, pruning phases, checkpoints.

A run has up to two phases: ``train`` (dense, ``TrainConfig.epochs``) and ``prune`` (the masks of
a :class:`~fpgaflow.train.pruning.PruneConfig` plus ``finetune_epochs`` of fine-tuning with a
restarted optimizer). After every epoch the whole state (weights, masks, optimizer, schedule,
batch-order generator, Brevitas' scale statistics) goes to the checkpoint file, and a run given
that file resumes where it stopped and ends with the same weights as an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from torch import nn

from fpgaflow.train import pruning
from fpgaflow.train.datasets import Dataset
from fpgaflow.train.recipes import QuantNet

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """Optimiser settings.

    Attributes:
        epochs: dense training epochs.
        batch_size: samples per step.
        lr: Adam's initial learning rate (cosine-annealed per phase).
        seed: seeds the initial weights and the batch order.
        threads: torch CPU threads [default: 1, fastest for small layers and independent of the
            machine, so a seed gives the same weights everywhere].
    """

    epochs: int = 10
    batch_size: int = 64
    lr: float = 0.02
    seed: int = 0
    threads: int = 1


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run torch on ``n`` threads, then restore the previous setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def model_inputs(model: QuantNet, x: np.ndarray) -> torch.Tensor:
    """A float tensor of ``x`` shaped the way ``model`` takes it."""
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).reshape((len(x),) + model.input_shape)


@torch.no_grad()
def predict(model: QuantNet, x: np.ndarray, batch: int = 1000) -> np.ndarray:
    """The model's logits for images ``x`` (eval mode; the mode is restored)."""
    was_training = model.training
    model.eval()
    try:
        xs = model_inputs(model, x)
        return torch.cat([model(xs[i:i + batch]) for i in range(0, len(xs), batch)]).numpy()
    finally:
        model.train(was_training)


def accuracy(model: QuantNet, x: np.ndarray, y: np.ndarray) -> float:
    """Top-1 accuracy of ``model`` on ``(x, y)``."""
    return float((predict(model, x).argmax(1) == y).mean())


def _stats_modules(model: nn.Module) -> dict[str, nn.Module]:
    """Brevitas scale modules that collect statistics during their first training steps."""
    return {n: m for n, m in model.named_modules() if hasattr(m, "collect_stats_steps") and hasattr(m, "counter")}


def stats_state(model: nn.Module) -> dict:
    """Brevitas' statistics-collection progress, which its state dict leaves out."""
    return {n: {"counter": int(m.counter), "buffer": m.buffer.detach().clone()}
            for n, m in _stats_modules(model).items()}


def restore_stats_state(model: nn.Module, state: dict) -> None:
    """Put back :func:`stats_state` after ``load_state_dict`` (which ends any collection)."""
    for name, module in _stats_modules(model).items():
        if name not in state:
            continue
        module.counter = state[name]["counter"]
        module.buffer.copy_(state[name]["buffer"])
        if module.counter <= module.collect_stats_steps:
            module.value.data.fill_(1.0)  # collection multiplies the final statistic into it


def _optimizer(model: nn.Module, lr: float, epochs: int):
    # a fixed parameter order, whatever pruning did to the modules' parameter dicts
    params = [p for _, p in sorted(model.named_parameters(), key=lambda kv: kv[0].replace("_orig", ""))]
    opt = torch.optim.Adam(params, lr=lr)
    return opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(epochs, 1))


class Trainer:
    """Trains one model through its phases, checkpointing after every epoch.

    Args:
        model: the network (see :func:`fpgaflow.train.recipes.build_model`).
        data: the data set (already flattened for an MLP or not: inputs are reshaped).
        config: optimiser settings.
        prune: pruning to do after the dense epochs, or None.
        checkpoint: file written after every epoch (None: no checkpoints).
        progress: show progress bars (rich).
    """

    def __init__(self, model: QuantNet, data: Dataset, config: TrainConfig,
                 prune: pruning.PruneConfig | None = None, checkpoint: str | Path | None = None,
                 progress: bool = True) -> None:
        self.model, self.data, self.config, self.prune = model, data, config, prune
        self.checkpoint = Path(checkpoint) if checkpoint is not None else None
        self.progress = progress
        self.sparsities = prune.check(len(model.compute_layers())) if prune is not None else None
        if prune is not None:
            pruning.check_prunable(model, self.sparsities, prune.method)
        self.gen = torch.Generator().manual_seed(config.seed)
        self.phase, self.epoch = "train", 0
        self.history: list[dict] = []
        self.x = model_inputs(model, data.x_train)
        self.y = torch.from_numpy(data.y_train)
        self.opt, self.sched = _optimizer(model, config.lr, config.epochs)

    def phases(self) -> list[tuple[str, int]]:
        """(phase, epochs) in order."""
        out = [("train", self.config.epochs)]
        if self.prune is not None:
            out.append(("prune", self.prune.finetune_epochs))
        return out

    def run(self, stop_after: str | None = None) -> QuantNet:
        """Train to the end, or to the end of phase ``stop_after`` (``train``), from wherever a resumed
        checkpoint left off; return the model in eval mode. A later call goes on from there."""
        with torch_threads(self.config.threads), self._bars() as bars:
            order = [p for p, _ in self.phases()]
            for phase, epochs in self.phases():
                if self._phase_done(phase):
                    continue
                if stop_after is not None and order.index(phase) > order.index(stop_after):
                    break
                if phase != self.phase:
                    self.phase, self.epoch = phase, 0
                    self.opt, self.sched = _optimizer(self.model, self.config.lr, epochs)
                while self.epoch < epochs:
                    self._epoch(bars, phase, epochs)
                    self.epoch += 1
                    self.save()
        self.model.eval()
        return self.model

    def _phase_done(self, phase: str) -> bool:
        order = [p for p, _ in self.phases()]
        return order.index(phase) < order.index(self.phase)

    def _epoch(self, bars, phase: str, epochs: int) -> None:
        steps = math.ceil(len(self.x) / self.config.batch_size)
        updates = self._mask_updates(phase, steps)
        perm = torch.randperm(len(self.x), generator=self.gen)
        loss_fn = nn.CrossEntropyLoss()
        self.model.train()
        task = bars.add_task(f"{phase} epoch {self.epoch + 1}/{epochs}", total=steps) if bars else None
        total = 0.0
        for step, idx in enumerate(perm.split(self.config.batch_size)):
            if step in updates:
                pruning.prune_to(self.model, self.prune.method, updates[step])
            self.opt.zero_grad()
            loss = loss_fn(self.model(self.x[idx]), self.y[idx])
            loss.backward()
            self.opt.step()
            total += float(loss.detach()) * len(idx)
            if bars:
                bars.update(task, advance=1)
        self.sched.step()
        record = {"phase": phase, "epoch": self.epoch + 1, "loss": total / len(self.x),
                  "test_accuracy": accuracy(self.model, self.data.x_test, self.data.y_test)}
        if phase == "prune":
            record["sparsity"] = pruning.layer_sparsity(self.model)
        self.history.append(record)
        if bars:
            bars.update(task, description=f"{phase} epoch {self.epoch + 1}/{epochs}: loss {record['loss']:.3f}, "
                                          f"test accuracy {record['test_accuracy']:.3f}")
        log.info("%s epoch %d/%d: loss %.4f, test accuracy %.4f", phase, self.epoch + 1, epochs,
                 record["loss"], record["test_accuracy"])

    def _mask_updates(self, phase: str, steps: int) -> dict[int, list[float]]:
        """Steps of this epoch at which the masks change, with the per-layer sparsities then."""
        if phase != "prune":
            return {}
        if self.prune.schedule == "oneshot":
            return {0: self.sparsities} if self.epoch == 0 else {}
        ramp = self.prune.ramp()
        if self.epoch >= ramp:
            return {}
        n = self.prune.updates_per_epoch
        out = {}
        for k in range(n):
            t = self.epoch + (k + 1) / n  # in epochs of the ramp; reaches the final sparsity at t = ramp
            out[(k * steps) // n] = [pruning.cubic_sparsity(t, ramp, s) for s in self.sparsities]
        return out

    def _bars(self):
        if not self.progress:
            return contextlib.nullcontext(None)
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())

    def save(self) -> None:
        """Write the checkpoint (if the trainer has a file)."""
        if self.checkpoint is None:
            return
        state = {
            "recipe": self.model.recipe.to_dict(), "input_shape": self.model.input_shape,
            "num_classes": self.model.num_classes, "config": asdict(self.config),
            "prune": asdict(self.prune) if self.prune else None,
            "phase": self.phase, "epoch": self.epoch, "history": self.history,
            "masked_layers": pruning.pruned_layers(self.model),
            "model": self.model.state_dict(), "stats": stats_state(self.model),
            "optimizer": self.opt.state_dict(), "scheduler": self.sched.state_dict(),
            "generator": self.gen.get_state(),
        }
        self.checkpoint.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.checkpoint.with_name(self.checkpoint.name + ".tmp")
        torch.save(state, tmp)
        tmp.replace(self.checkpoint)

    def restore(self, state: dict) -> None:
        """Continue from a checkpoint written by :meth:`save` for the same recipe and settings."""
        if state["recipe"] != self.model.recipe.to_dict() or state["config"] != asdict(self.config) \
                or state["prune"] != (asdict(self.prune) if self.prune else None):
            raise ValueError("the checkpoint was written by a run with another recipe, training or pruning "
                             "setting; use the same options to resume, or another checkpoint file")
        pruning.add_empty_masks(self.model, state["masked_layers"])
        self.model.load_state_dict(state["model"])
        restore_stats_state(self.model, state["stats"])
        self.phase, self.epoch, self.history = state["phase"], state["epoch"], state["history"]
        epochs = dict(self.phases())[self.phase]
        self.opt, self.sched = _optimizer(self.model, self.config.lr, epochs)
        self.opt.load_state_dict(state["optimizer"])
        self.sched.load_state_dict(state["scheduler"])
        self.gen.set_state(state["generator"])


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint file written by :class:`Trainer`."""
    return torch.load(Path(path), map_location="cpu", weights_only=False)
