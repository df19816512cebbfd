"""The oracle: qonnx's execute_onnx on the original model file, one sample at a time."""

from __future__ import annotations

import copy

import numpy as np
import onnx
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.util.cleanup import cleanup_model


class Reference:
    """execute_onnx on ``source`` (a model file or an onnx ModelProto) after qonnx's cleanup
    (which execute_onnx needs for shapes)."""

    def __init__(self, source):
        wrapped = ModelWrapper(copy.deepcopy(source) if isinstance(source, onnx.ModelProto) else str(source))
        self.model = cleanup_model(wrapped)
        self.input_name = self.model.graph.input[0].name
        self.output_name = self.model.graph.output[0].name
        self.input_shape = self.model.get_tensor_shape(self.input_name)
        #: Every tensor a node computes (what ``run`` can return).
        self.tensors = {o for n in self.model.graph.node for o in n.output}

    def run(self, x: np.ndarray, tensors: tuple[str, ...] = ()) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Outputs for the batch ``x`` and the values of the named intermediate ``tensors``."""
        outs, extra = [], {t: [] for t in tensors}
        for sample in np.asarray(x, dtype=np.float32):
            ctx = execute_onnx(self.model, {self.input_name: sample.reshape(self.input_shape)},
                               return_full_exec_context=bool(tensors))
            outs.append(ctx[self.output_name])
            for t in tensors:
                extra[t].append(ctx[t])
        return np.concatenate(outs), {t: np.concatenate(v) for t, v in extra.items()}
