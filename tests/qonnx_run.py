"""Running exported QONNX models through qonnx's reference execution (test-support module)."""

from __future__ import annotations

import numpy as np


def run_qonnx(path, x: np.ndarray) -> np.ndarray:
    """qonnx's ``execute_onnx`` on the cleaned-up graph, the whole batch at once.

    The export's batch dimension (1) is set to ``len(x)`` before ``cleanup_model`` redoes the
    shape inference; test_train_quant.py's ``test_batched_equals_per_sample`` checks that this changes nothing.
    """
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.util.cleanup import cleanup_model

    model = ModelWrapper(str(path))
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = len(x)
    model.graph.output[0].type.tensor_type.shape.dim[0].dim_value = len(x)
    del model.graph.value_info[:]
    model = cleanup_model(model)
    return execute_onnx(model, {model.graph.input[0].name: np.asarray(x, np.float32)})[model.graph.output[0].name]


def run_qonnx_per_sample(path, x: np.ndarray) -> np.ndarray:
    """As the repository's other tests do it: one ``(1, ...)`` sample at a time."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.util.cleanup import cleanup_model

    model = cleanup_model(ModelWrapper(str(path)))
    name_in, name_out = model.graph.input[0].name, model.graph.output[0].name
    return np.concatenate([execute_onnx(model, {name_in: row[None]})[name_out] for row in np.asarray(x, np.float32)])
