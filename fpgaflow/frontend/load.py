"""Load a QONNX model, clean it up with qonnx's own passes, and check that fpgaflow supports it."""

from __future__ import annotations

import copy
import logging
import warnings
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper
from google.protobuf.message import DecodeError
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.extract_conv_bias import ExtractBiasFromConv
from qonnx.transformation.gemm_to_matmul import GemmToMatMul
from qonnx.transformation.general import GiveUniqueNodeNames
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.transformation.qcdq_to_qonnx import QCDQToQuant
from qonnx.util.cleanup import cleanup_model

from fpgaflow.errors import UserError
from fpgaflow.frontend.conv1d import Conv1dAs2d, has_1d_layers
from fpgaflow.frontend.op_kinds import COMPUTE, QCDQ, REWRITTEN
from fpgaflow.frontend.validate import validate_bit_widths, validate_model
from fpgaflow.lowering import supported_ops

log = logging.getLogger(__name__)

#: Operators fpgaflow accepts before the last layer: those the lowering table lowers, and those
#: the frontend rewrites into them.
SUPPORTED_OPS = supported_ops()


def read_onnx(path: str | Path) -> onnx.ModelProto:
    """Read an ONNX file, turning the usual failures into user errors naming the path."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if not path.is_file():
        raise UserError(f"{path}: not a file")
    try:
        model = onnx.load(str(path))
    except (DecodeError, RuntimeError, ValueError, OSError) as exc:
        raise UserError(f"{path}: not an ONNX model ({type(exc).__name__}: {exc})".splitlines()[0]) from None
    if len(model.graph.node) == 0:
        raise UserError(f"{path}: not an ONNX model (no graph nodes)")
    return model


def load_model(path: str | Path) -> ModelWrapper:
    """Load ``path`` as a cleaned-up qonnx ModelWrapper with shapes and datatypes inferred.

    Runs qonnx's ``cleanup_model`` (shape inference, constant folding, unique readable names),
    converts Gemm to MatMul and a QCDQ export to Quant nodes, and rejects operators the flow does
    not support, naming the node. The result's ``host_model`` attribute is the same graph before
    the QCDQ conversion: the host edges replay the reference's own nodes from it.
    """
    proto = read_onnx(path)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            host_model = _clean(proto)
            model = _convert_qcdq(host_model)
            if has_1d_layers(model):
                model = ModelWrapper(copy.deepcopy(model.model)).transform(Conv1dAs2d())
        for w in caught:  # qonnx's remarks go to the log, not to the user's terminal
            log.debug("qonnx: %s", w.message)
    except UserError:
        raise
    except Exception as exc:  # qonnx/onnx raise plain exceptions for malformed graphs
        raise UserError(f"{path}: qonnx could not clean up the model ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''}); is it a valid QONNX export?") from None
    inits = {i.name for i in model.graph.initializer}
    inputs = [i.name for i in model.graph.input if i.name not in inits]
    if len(inputs) != 1 or len(model.graph.output) != 1:
        raise UserError(f"{path}: fpgaflow needs exactly one graph input and one output, found "
                        f"{len(inputs)} inputs and {len(model.graph.output)} outputs")
    shape = model.get_tensor_shape(model.graph.input[0].name)
    if not shape or any(not isinstance(d, int) or d <= 0 for d in shape) or shape[0] != 1:
        raise UserError(f"{path}: input '{model.graph.input[0].name}' has shape {shape}; "
                        "export the model with a fixed shape and batch size 1")
    check_supported(model)
    validate_model(model)
    _reference_runs(proto, host_model)
    model.host_model = host_model
    log.debug("loaded %s: %d nodes", path, len(model.graph.node))
    return model


def _clean(proto: onnx.ModelProto) -> ModelWrapper:
    model = cleanup_model(ModelWrapper(proto))
    validate_bit_widths(model)
    model = model.transform(ExtractBiasFromConv())  # a Conv bias becomes an explicit Add
    _give_gemms_a_bias(model)
    before = {i.name for i in model.graph.initializer}
    model = model.transform(GemmToMatMul())
    for init in model.graph.initializer:  # qonnx writes alpha and beta as float64 (exact in float32)
        if init.name not in before and init.data_type == onnx.TensorProto.DOUBLE:
            model.set_initializer(init.name, numpy_helper.to_array(init).astype(np.float32))
    model = model.transform(GiveUniqueNodeNames())
    model = model.transform(InferShapes())
    return model.transform(InferDataTypes())


def _reference_runs(proto: onnx.ModelProto, model: ModelWrapper) -> None:
    """Run the reference (:class:`Reference`: qonnx's execute_onnx on the user's model) once on a
    constant input and check the output against its declared shape: a damaged graph fails here
    with the reference's reason. ``model`` is the cleaned graph, for the input's type."""
    from qonnx.core.datatype import DataType

    from fpgaflow.frontend.reference import Reference

    inp, out = model.graph.input[0], model.graph.output[0]
    if inp.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
        raise UserError(f"input '{inp.name}': element type "
                        f"{onnx.TensorProto.DataType.Name(inp.type.tensor_type.elem_type)}; fpgaflow takes float32 inputs")
    if out.name not in {o for n in model.graph.node for o in n.output}:
        raise UserError(f"output '{out.name}': no node computes it; name a tensor that a node outputs")
    shape = model.get_tensor_shape(inp.name)
    value = 1.0 if model.get_tensor_datatype(inp.name) == DataType["BIPOLAR"] else 0.0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = Reference(proto)
            _shapes_known(reference.model)
            result, _ = reference.run(np.full([1] + list(shape), value, dtype=np.float32))
    except UserError:
        raise
    except Exception as exc:  # the reference itself cannot run the graph
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise UserError(f"execute_onnx (the reference) cannot run the model: {type(exc).__name__}: {first[:300]}") from None
    declared = [d.dim_value for d in out.type.tensor_type.shape.dim]
    if declared and list(np.shape(result)) != declared:
        raise UserError(f"output '{out.name}': declared shape {declared}, but the graph computes "
                        f"{list(np.shape(result))}; fix the output's shape or the nodes before it")


def _shapes_known(model: ModelWrapper) -> None:
    """execute_onnx needs every tensor's shape; name the first node whose output shape is unknown."""
    for node in model.graph.node:
        for name in node.output:
            if model.get_tensor_shape(name) is None:
                raise UserError(f"node {node.name} ({node.op_type}): the shape of its output '{name}' cannot be "
                                "inferred from its inputs and attributes; check them")


def _convert_qcdq(model: ModelWrapper) -> ModelWrapper:
    """A copy of ``model`` with QuantizeLinear (Clip) DequantizeLinear chains as qonnx Quant nodes.

    Quant's arithmetic equals QuantizeLinear -> DequantizeLinear only for a zero point of 0 (the
    rounding of ``x / scale + zp`` and ``round(x / scale) + zp`` differ at ties), which is what
    Brevitas exports; other zero points are refused.
    """
    nodes = [n for n in model.graph.node if n.op_type in QCDQ]
    if not nodes:
        return model
    for node in nodes:
        zp = model.get_initializer(node.input[2]) if len(node.input) > 2 and node.input[2] else 0
        if zp is None or np.any(np.asarray(zp) != 0):
            raise UserError(f"node {node.name} ({node.op_type}): zero point {zp if zp is None else np.asarray(zp).tolist()} "
                            "is not supported; only symmetric QCDQ quantizers (zero point 0, as Brevitas exports) "
                            "convert exactly to Quant nodes")
    converted = ModelWrapper(copy.deepcopy(model.model)).transform(QCDQToQuant())
    left = [n for n in converted.graph.node if n.op_type in QCDQ]
    if left:
        raise UserError(f"node {left[0].name} ({left[0].op_type}): not part of a QuantizeLinear -> [Clip ->] "
                        "DequantizeLinear chain with constant scales, which is the only QCDQ form fpgaflow reads")
    converted = converted.transform(InferShapes())
    return converted.transform(InferDataTypes())


def _give_gemms_a_bias(model: ModelWrapper) -> None:
    """Add an explicit zero C input to bias-free Gemms (qonnx's GemmToMatMul needs one).

    Adding +0.0 leaves every float result unchanged, so the reference semantics are kept.
    """
    for node in model.graph.node:
        if node.op_type == "Gemm" and len(node.input) == 2:
            shape = model.get_tensor_shape(node.output[0])
            name = model.make_new_valueinfo_name()
            model.set_initializer(name, np.zeros(shape[-1:], dtype=np.float32))
            node.input.append(name)


def host_tail(model: ModelWrapper) -> set[str]:
    """Names of the nodes downstream of the last MatMul/Conv: they may run on the host.

    Which of them are the last layer's activation (hardware) and which are the float tail (host)
    the streamliner decides; any operator the reference can run may be in the tail.
    """
    order = list(model.graph.node)
    computes = [i for i, n in enumerate(order) if n.op_type in COMPUTE + REWRITTEN]
    if not computes:
        return set()
    reached, names = set(order[computes[-1]].output), set()
    for node in order[computes[-1] + 1:]:
        if any(i in reached for i in node.input):
            reached.update(node.output)
            names.add(node.name)
    return names


def check_supported(model: ModelWrapper) -> None:
    """Raise a UserError naming the first node whose operator fpgaflow does not support.

    Nodes after the last MatMul/Conv (a Softmax, ArgMax, TopK, a final scaling ...) run on the
    host with the reference's arithmetic and may be any operator.
    """
    tail = host_tail(model)
    for node in model.graph.node:
        if node.op_type in SUPPORTED_OPS or node.name in tail:
            continue
        raise UserError(f"node {node.name} ({node.op_type}): operator not supported before the last "
                        f"MatMul/Conv layer; supported operators: {', '.join(sorted(SUPPORTED_OPS))} "
                        "(after the last layer, any operator runs on the host)")
