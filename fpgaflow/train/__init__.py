"""fpgaflow's training side: Brevitas QAT recipes, pruning, slimming and QONNX export.

The command ``fpgaflow train`` is :func:`fpgaflow.train.flow.run`; the pieces are public too.
Importing this package needs the ``train`` extra (torch, brevitas, scikit-learn).
"""

from fpgaflow.train.datasets import Dataset, from_arrays, load_dataset
from fpgaflow.train.export import export_onnx
from fpgaflow.train.pruning import PruneConfig, prune_to
from fpgaflow.train.recipes import Recipe, build_model
from fpgaflow.train.sensitivity import sensitivity, write_sensitivity
from fpgaflow.train.slim import slim
from fpgaflow.train.trainer import TrainConfig, Trainer, accuracy, predict

__all__ = ["Dataset", "PruneConfig", "Recipe", "TrainConfig", "Trainer", "accuracy", "build_model", "export_onnx",
           "from_arrays", "load_dataset", "predict", "prune_to", "sensitivity", "slim", "write_sensitivity"]
