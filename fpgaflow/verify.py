"""Check the C simulation against the reference (qonnx execute_onnx on the original model).

Two claims, each under its own name:
- ``ints_equal`` / ``streams_equal``: the integer codes on the accelerator's streams are identical
  to the reference's tensors at those points (``execute_onnx(..., return_full_exec_context=True)``,
  divided by the stream's scale), in the accelerator's NHWC order;
- ``float_identical``: the final float outputs are identical (``np.array_equal``).
``bit_exact`` is both. Where the host cannot replay the reference's float32 arithmetic (e.g. a last
layer whose float32 MatMul rounds partial sums of non-power-of-two scales in an order the integer
hardware never sees) the floats are compared by ``max_abs_diff`` and ``argmax_mismatches`` and the
result is not called bit-exact.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from fpgaflow.annotation import random_codes
from fpgaflow.csim import Design, run_csim, stream_log
from fpgaflow.frontend.reference import Reference
from fpgaflow.ir import OUT_STREAM

log = logging.getLogger(__name__)

#: A float agreement that is reported (never as bit-exact): relative to the output's range.
RELATIVE_TOLERANCE = 1e-5
#: Stream tokens the boundary check logs at most (text log of the C simulation).
STREAM_LOG_BUDGET = 4_000_000


def random_inputs(shape: list[int], n: int, seed: int = 0, far_fraction: float = 0.25,
                  dtype: str | None = None) -> np.ndarray:
    """``n`` standard-normal inputs of ``shape[1:]``; the last ``far_fraction`` with sigma 2.

    With ``dtype`` (a qonnx integer datatype the model input is annotated with) random codes of it.
    """
    rng = np.random.default_rng(seed)
    if dtype is not None:
        return random_codes(dtype, (n, *shape[1:]), rng)
    x = rng.normal(size=(n, *shape[1:])).astype(np.float32)
    far = int(round(n * far_fraction))
    if far:
        x[n - far:] *= 2.0
    return x


def compare(ref: np.ndarray, got: np.ndarray, ref_ints: np.ndarray | None = None,
            got_ints: np.ndarray | None = None) -> dict:
    """The numeric contract: integers identical, float outputs identical; the float distance."""
    ref = np.asarray(ref).reshape(len(ref), -1)
    got = np.asarray(got).reshape(len(got), -1)
    identical = bool(ref.shape == got.shape and np.array_equal(ref, got, equal_nan=ref.dtype.kind == "f"))
    ref64, got64 = ref.astype(np.float64), got.astype(np.float64)
    diff = float(np.nanmax(np.abs(ref64 - got64))) if ref.size and ref.shape == got.shape else 0.0
    span = float(np.nanmax(ref64) - np.nanmin(ref64)) if ref.size else 0.0
    tolerance = RELATIVE_TOLERANCE * max(span, np.finfo(np.float32).tiny)
    mismatches = int(np.sum(ref64.argmax(axis=1) != got64.argmax(axis=1))) if ref.size else 0
    ints_equal = None if ref_ints is None else bool(np.array_equal(ref_ints, got_ints))
    return {"samples": int(len(ref)), "bit_exact": identical and ints_equal is not False, "float_identical": identical,
            "max_abs_diff": 0.0 if identical else diff, "tolerance": tolerance, "within_tolerance": diff <= tolerance,
            "argmax_equal": mismatches == 0, "argmax_mismatches": mismatches, "ints_equal": ints_equal}


def to_stream_order(value: np.ndarray) -> np.ndarray:
    """(N, C, ...) -> (N, elements) with channels last: the order a feature map streams in."""
    value = np.asarray(value)
    if value.ndim >= 3:
        value = np.moveaxis(value, 1, -1)
    return value.reshape(len(value), -1)


def reference_codes(value: np.ndarray, scale, channels=None) -> np.ndarray:
    """A reference tensor (N, C, ...) as the integer codes of a stream: divided by its (per-tensor
    or per-channel) scale, in stream order (channels last), only the ``channels`` kept."""
    value = np.asarray(value, dtype=np.float64)
    scale = np.asarray(scale, dtype=np.float64)
    if scale.ndim and value.ndim > 2:
        scale = scale.reshape((-1,) + (1,) * (value.ndim - 2))
    codes = np.rint(value / scale)
    if channels is not None:
        codes = np.take(codes, channels, axis=1)
    return to_stream_order(codes).astype(np.int64)


def check_streams(design: Design, reference: Reference, x: np.ndarray) -> dict[str, bool]:
    """Per accelerator stream that carries a reference tensor: are its codes identical on ``x``?"""
    streams = {s: m for s, m in design.meta.get("streams", {}).items() if m["tensor"] in reference.tensors}
    if not streams or not len(x):
        return {}
    _, ctx = reference.run(x, tuple(m["tensor"] for m in streams.values()))
    logged = stream_log(design.dir, x)
    result = {}
    for stream, m in streams.items():
        want = reference_codes(ctx[m["tensor"]], m["scale"], m.get("channels"))
        if stream == OUT_STREAM:  # constants of removed neurons are added on the host
            want = want - np.asarray(design.host_out.offset, dtype=np.int64)
        want = (want > 0).astype(np.int64).reshape(-1) if m["bipolar"] else want.reshape(-1)
        got = logged.get(stream, np.zeros((0, 1), np.int64)).reshape(-1)
        result[stream] = bool(np.array_equal(want, got))
        if not result[stream]:
            log.warning("stream %s differs from the reference tensor %s", stream, m["tensor"])
    return result


def verify_build(build_dir: str | Path, model_path: str | Path, samples: int = 300, seed: int = 0,
                 stream_samples: int | None = None) -> dict:
    """Run ``samples`` random inputs (random codes for an annotated integer input) through the C
    simulation and the reference and compare them (see :func:`compare_on`)."""
    design = Design(build_dir)
    x = random_inputs(design.input_shape, samples, seed, dtype=design.host_in.dtype)
    return compare_on(build_dir, model_path, x, stream_samples)


def _source_codes(design: Design, reference: Reference, x: np.ndarray):
    """The reference's integer outputs of the last layer on ``x`` (None if no reference tensor has them)
    and the reference's final outputs.

    The last layer's raw output is a reference tensor unless it is a Gemm's: then the Gemm's
    output less its bias (``source_bias``) is divided by the scale and rounded, which recovers the
    integers wherever the float32 rounding of the Gemm stays below half a step.
    """
    out = design.meta["output"]
    source, via = out.get("source_tensor"), out.get("source_bias")
    if source in reference.tensors:
        ref_out, extra = reference.run(x, (source,))
        return ref_out, reference_codes(extra[source], design.host_out.value_scale)
    if via and via["tensor"] in reference.tensors:
        ref_out, extra = reference.run(x, (via["tensor"],))
        value = extra[via["tensor"]].astype(np.float64) - np.asarray(via["bias"], dtype=np.float64)
        return ref_out, reference_codes(value, design.host_out.value_scale)
    return reference.run(x)[0], None


def compare_on(build_dir: str | Path, model_path: str | Path, x: np.ndarray,
               stream_samples: int | None = None) -> dict:
    """The C simulation of ``build_dir`` against execute_onnx on ``model_path`` for the inputs ``x``.

    The last layer's integer outputs and the final float outputs are compared on every input;
    every stream boundary on the first ``stream_samples`` (default: as many as the stream log's
    budget allows).
    """
    design = Design(build_dir)
    reference = Reference(model_path)
    x = design.check_input(x)
    samples = len(x)
    ref_out, ref_ints = _source_codes(design, reference, x)
    result = run_csim(build_dir, x)
    got_ints = (result.ints + np.asarray(design.host_out.offset, dtype=np.int64)).reshape(samples, -1)
    report = compare(ref_out, result.outputs, None if ref_ints is None else ref_ints.reshape(samples, -1), got_ints)
    if stream_samples is None:
        per_frame = max(1, sum(int(np.prod(m["shape"][1:])) for m in design.meta.get("streams", {}).values()))
        stream_samples = max(1, min(samples, STREAM_LOG_BUDGET // per_frame))
    streams = check_streams(design, reference, x[:stream_samples])
    report.update(streams_checked=sorted(streams), streams_equal=all(streams.values()),
                  stream_samples=int(min(stream_samples, samples)) if streams else 0)
    report["integers_equal"] = bool(report["ints_equal"] is not False and report["streams_equal"])
    report["bit_exact"] = bool(report["float_identical"] and report["integers_equal"])
    log.info("csim vs execute_onnx on %d inputs: %s", samples, report)
    return report
