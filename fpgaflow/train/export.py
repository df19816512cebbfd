"""Export a trained recipe network to QONNX with Brevitas."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from fpgaflow.train import pruning
from fpgaflow.train.quantizers import freeze_po2_snap
from fpgaflow.train.recipes import QuantNet

log = logging.getLogger(__name__)


def export_onnx(model: QuantNet, path: str | Path) -> Path:
    """Write ``model`` as QONNX (``brevitas.export.export_qonnx``) and return the path.

    Masks and power-of-two snapping are made permanent first (on the model itself); the dummy
    input is one zero sample of the model's input shape.
    """
    from brevitas.export import export_qonnx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pruning.make_permanent(model)
    freeze_po2_snap(model)
    model.eval()
    dummy = torch.zeros((1,) + tuple(model.input_shape))
    export_qonnx(model, dummy, export_path=str(path), dynamo=False)
    log.info("exported %s", path)
    return path
