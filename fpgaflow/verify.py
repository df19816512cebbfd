"""Check the C simulation against the reference (qonnx execute_onnx on the original model)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from fpgaflow.csim import Design, run_csim
from fpgaflow.frontend.reference import Reference

log = logging.getLogger(__name__)

#: Final float outputs may differ by float32 rounding of the last host-side op, relative to range.
RELATIVE_TOLERANCE = 1e-5


def random_inputs(shape: list[int], n: int, seed: int = 0, far_fraction: float = 0.25) -> np.ndarray:
    """``n`` standard-normal inputs of ``shape[1:]``; the last ``far_fraction`` with sigma 2."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, *shape[1:])).astype(np.float32)
    far = int(round(n * far_fraction))
    if far:
        x[n - far:] *= 2.0
    return x


def compare(ref: np.ndarray, got: np.ndarray, ref_ints: np.ndarray | None = None,
            got_ints: np.ndarray | None = None) -> dict:
    """The numeric-contract checks: integers identical, argmax identical, floats within tolerance."""
    ref = ref.reshape(len(ref), -1).astype(np.float64)
    got = got.reshape(len(got), -1).astype(np.float64)
    diff = float(np.max(np.abs(ref - got))) if ref.size else 0.0
    span = float(ref.max() - ref.min()) if ref.size else 0.0
    tolerance = RELATIVE_TOLERANCE * max(span, np.finfo(np.float32).tiny)
    argmax_equal = bool(np.array_equal(ref.argmax(axis=1), got.argmax(axis=1)))
    ints_equal = None if ref_ints is None else bool(np.array_equal(ref_ints, got_ints))
    exact = argmax_equal and diff <= tolerance and ints_equal is not False
    return {"samples": int(len(ref)), "bit_exact": exact, "max_abs_diff": diff, "tolerance": tolerance,
            "argmax_equal": argmax_equal, "ints_equal": ints_equal,
            "argmax_mismatches": int(np.sum(ref.argmax(axis=1) != got.argmax(axis=1)))}


def verify_build(build_dir: str | Path, model_path: str | Path, samples: int = 300, seed: int = 0) -> dict:
    """Run ``samples`` random inputs through the C simulation and the reference and compare."""
    design = Design(build_dir)
    reference = Reference(model_path)
    x = random_inputs(design.input_shape, samples, seed)
    source = design.meta["output"].get("source_tensor")
    known = {o for n in reference.model.graph.node for o in n.output}
    tensors = (source,) if source in known else ()
    ref_out, extra = reference.run(x, tensors)
    result = run_csim(build_dir, x)
    ref_ints = None
    got_ints = design.host_out.to_reference_layout(result.ints + design.host_out.offset)
    if tensors:
        ref = extra[source].astype(np.float64)
        scale = design.host_out.value_scale
        ref_ints = np.rint(ref / (scale.reshape((-1,) + (1,) * (ref.ndim - 2)) if ref.ndim > 2 else scale))
        ref_ints = ref_ints.astype(np.int64).reshape(samples, -1)
    report = compare(ref_out, result.outputs, ref_ints, got_ints.reshape(samples, -1))
    log.info("csim vs execute_onnx on %d inputs: %s", samples, report)
    return report
