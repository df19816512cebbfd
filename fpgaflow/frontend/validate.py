"""Checks of quantizer parameters and node attributes, so damaged models fail with a clear reason.

Each check names the node and says what to change; the frontend runs them before streamlining.
"""

from __future__ import annotations

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper

from fpgaflow.errors import UserError
from fpgaflow.frontend.op_kinds import INT_QUANTIZERS, SCALE_QUANTIZERS

#: qonnx's rounding modes (``resolve_rounding_mode``).
ROUNDING_MODES = ("ROUND", "HALF_EVEN", "CEIL", "FLOOR", "UP", "DOWN", "HALF_UP", "HALF_DOWN")
#: Activation quantizers become threshold tables with one threshold per level.
MAX_ACTIVATION_BITS = 16
MAX_BITS = 32
#: Scales outside this range lose float32's precision (or are zero / infinite).
SCALE_RANGE = (1e-30, 1e30)


def _attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            value = a.i if a.type == a.INT else a.f if a.type == a.FLOAT else a.s if a.type == a.STRING else None
            return value.decode() if isinstance(value, bytes) else value
    return default


def _fail(node, what: str) -> None:
    raise UserError(f"node {node.name} ({node.op_type}): {what}")


def _const(model: ModelWrapper, node, index: int, what: str) -> np.ndarray:
    name = node.input[index] if index < len(node.input) else ""
    value = model.get_initializer(name) if name else None
    if value is None:
        _fail(node, f"its {what} (input {index}) must be a constant initializer")
    value = np.asarray(value, dtype=np.float64)
    if value.size == 0 or not np.all(np.isfinite(value)):
        _fail(node, f"its {what} {value.tolist()} must be finite and not empty")
    return value


def _broadcasts(node, value: np.ndarray, shape, what: str) -> None:
    if shape is None or value.size == 1:
        return
    try:
        np.broadcast_shapes(value.shape, tuple(shape))
    except ValueError:
        _fail(node, f"its {what} of shape {list(value.shape)} does not broadcast to the input's shape {list(shape)}; "
                    "use one value per tensor or per output channel")


def _bit_width(model: ModelWrapper, node) -> int:
    bits = _const(model, node, 3, "bit width")
    if bits.size != 1 or bits.ravel()[0] != int(bits.ravel()[0]) or not 1 <= bits.ravel()[0] <= MAX_BITS:
        _fail(node, f"bit width {bits.ravel().tolist()} must be one integer in 1..{MAX_BITS}")
    return int(bits.ravel()[0])


def validate_bit_widths(model: ModelWrapper) -> None:
    """Raise a UserError naming the first Quant node whose bit width is not one integer in 1..MAX_BITS.

    Run before qonnx's datatype inference, which spends minutes on bit widths like 1e10.
    """
    for node in model.graph.node:
        if node.op_type in INT_QUANTIZERS:
            _bit_width(model, node)


def _check_quant(model: ModelWrapper, node, static: set[str]) -> None:
    shape = model.get_tensor_shape(node.input[0])
    scale = _const(model, node, 1, "scale")
    if np.any(scale <= 0) or np.any(scale < SCALE_RANGE[0]) or np.any(scale > SCALE_RANGE[1]):
        _fail(node, f"scale {scale.ravel()[:4].tolist()} must be positive and within {SCALE_RANGE}")
    _broadcasts(node, scale, shape, "scale")
    if node.op_type == "BipolarQuant":
        return
    zp = _const(model, node, 2, "zero point")
    _broadcasts(node, zp, shape, "zero point")
    b = _bit_width(model, node)
    if np.any(zp != np.rint(zp)) or np.any(np.abs(zp) >= 2.0 ** b):
        _fail(node, f"zero point {zp.ravel()[:4].tolist()} must be an integer inside the {b}-bit range")
    if b == 1 and _attr(node, "narrow", 0) == 1:
        _fail(node, "a 1-bit narrow-range quantizer has the single value 0; use narrow=0 or more bits")
    mode = str(_attr(node, "rounding_mode", "ROUND")).upper()
    if mode not in ROUNDING_MODES:
        _fail(node, f"rounding_mode '{mode}' is not one of qonnx's: {', '.join(ROUNDING_MODES)}")
    for flag in ("signed", "narrow"):
        if _attr(node, flag, 0) not in (0, 1):
            _fail(node, f"attribute {flag}={_attr(node, flag)} must be 0 or 1")
    weight = node.input[0] in static
    if weight and (not _attr(node, "signed", 1) or np.any(zp != 0)) and b > 1:
        _fail(node, "a weight quantizer must be signed with zero point 0 (as Brevitas exports weights); "
                    "unsigned or asymmetric weights are not supported")
    if not weight and b > MAX_ACTIVATION_BITS:
        _fail(node, f"a {b}-bit activation quantizer needs 2^{b} thresholds per channel; use at most "
                    f"{MAX_ACTIVATION_BITS} bits for activations")


def _check_multithreshold(model: ModelWrapper, node) -> None:
    thresholds = _const(model, node, 1, "thresholds")
    if thresholds.ndim != 2 or thresholds.shape[1] == 0:
        _fail(node, f"thresholds of shape {list(thresholds.shape)} must be (channels or 1, levels >= 1)")
    layout = _attr(node, "data_layout", "") or ""
    if layout not in ("", "NCHW", "NC", "NCW"):
        _fail(node, f"data_layout '{layout}' is not supported; fpgaflow reads channels-first tensors (NCHW, NC)")
    if not np.all(np.diff(thresholds, axis=1) >= 0):
        _fail(node, "thresholds must be sorted ascending along the levels")


def _check_finite_constants(model: ModelWrapper, node) -> None:
    for index, name in enumerate(node.input):
        value = model.get_initializer(name) if name else None
        if value is not None and np.issubdtype(np.asarray(value).dtype, np.floating) and not np.all(np.isfinite(value)):
            _fail(node, f"its constant input {index} ('{name}') holds NaN or infinite values; no fixed-point "
                        "hardware computes them")


def validate_model(model: ModelWrapper) -> None:
    """Raise a UserError naming the first node with malformed quantizer parameters or attributes."""
    from fpgaflow.passes.input_edge import static_tensors

    static = static_tensors(model)
    for node in model.graph.node:
        _check_finite_constants(model, node)
        if node.op_type in SCALE_QUANTIZERS:
            _check_quant(model, node, static)
        elif node.op_type == "MultiThreshold":
            _check_multithreshold(model, node)
