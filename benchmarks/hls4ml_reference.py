"""Reference timings for hls4ml's C simulation of a QONNX model.

This module converts a QONNX model with hls4ml's ONNX/QONNX frontend, compiles
the generated HLS C++ with g++ (``hls_model.compile()``, no Vivado/Vitis
needed) and runs ``hls_model.predict`` on a batch, timing each stage with
``time.perf_counter``. It is meant as the baseline against which fpgaflow's own
C simulation is benchmarked.

Pipeline (as documented in hls4ml's "ONNX and QONNX" frontend page)::

    model = ModelWrapper(onnx_path)
    model = qonnx.util.cleanup.cleanup_model(model)
    model = model.transform(ConvertToChannelsLastAndClean())
    model = model.transform(GemmToMatMul())
    model = qonnx.util.cleanup.cleanup_model(model)
    config = hls4ml.utils.config.config_from_onnx_model(
        model, granularity="name", backend="Vitis", default_precision="fixed<32,8>")
    hls_model = hls4ml.converters.convert_from_onnx_model(
        model, output_dir=..., backend="Vitis", io_type="io_parallel", hls_config=config)
    hls_model.compile()
    y = hls_model.predict(x)

Notes on the batch dimension: hls4ml drops the leading (batch) dimension of
the graph input and of a constant Reshape target, so the Brevitas-exported
``Reshape(x, [1, -1])`` becomes a per-sample reshape to ``[784]``; predict()
then loops over samples itself. Inputs may therefore be given as
``(N, 1, 28, 28)`` or ``(N, 784)``. The qonnx reference, on the other hand,
must be executed one sample at a time because of the hard-coded ``[1, -1]``.

Notes on precision: the integer datapath (2-bit weights/activations and
accumulators) is inferred by hls4ml from the QONNX ``Quant`` nodes ("auto").
The default precision only affects the remaining real-valued parts: the
graph input, the BatchNormalization scale/bias and the output scaling
(``ApplyAlpha``). hls4ml's usual ``fixed<16,6>`` truncates the input to 10
fractional bits and the BN scale/bias too coarsely, which flips 2-bit
quantiser decisions (max |diff| ~0.8, argmax agreement ~95% on random
inputs). ``fixed<32,8>`` (24 fractional bits) makes hls4ml match qonnx's
``execute_onnx`` to float rounding (~5e-7) for TFC_2W2A.

Notes on io_type: use ``io_parallel``. With ``io_stream`` hls4ml 1.3.0 turns
the ``[1, 28, 28] -> [784]`` Reshape into a plain alias of the input stream
(28-element packets) while the next layer reads 784-element packets; the C
simulation prints "Hls::stream 'layer79_out' contains leftover data" for every
sample and the outputs are wrong (argmax agreement ~37%).

The hls4ml warning "Failed to propagate quantization bias down Add node" is
emitted for the output Sub/Div/Mul/Add chain of TFC; it is harmless here
(outputs match qonnx).
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import os
import time
import warnings

import numpy as np

logger = logging.getLogger(__name__)

#: Default fixed-point type for the non-quantised parts of the graph.
DEFAULT_PRECISION = "fixed<32,8>"


def _clean_for_hls4ml(onnx_path: str):
    """Load ``onnx_path`` and apply the qonnx clean-up hls4ml's docs require.

    Returns:
        tuple: ``(hls_ready_model, reference_model)`` where the reference
        model is the ``cleanup_model`` result (before channels-last
        conversion), suitable for :func:`qonnx.core.onnx_exec.execute_onnx`.
    """
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
    from qonnx.transformation.gemm_to_matmul import GemmToMatMul
    from qonnx.util.cleanup import cleanup_model

    model = cleanup_model(ModelWrapper(onnx_path))
    reference = ModelWrapper(copy.deepcopy(model.model))
    model = model.transform(ConvertToChannelsLastAndClean())
    model = model.transform(GemmToMatMul())
    model = cleanup_model(model)
    return model, reference


def _quiet(func, *args, **kwargs):
    """Call ``func`` with its stdout chatter and warnings routed to logging.

    hls4ml prints its parsing trace to stdout and emits UserWarnings from
    optimiser passes; both are forwarded at DEBUG/WARNING level respectively.
    """
    buf = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(buf):
        warnings.simplefilter("always")
        result = func(*args, **kwargs)
    if buf.getvalue().strip():
        logger.debug("%s stdout:\n%s", getattr(func, "__name__", func), buf.getvalue().rstrip())
    seen = set()
    for w in caught:
        msg = f"{w.category.__name__}: {w.message}"
        if msg not in seen:
            seen.add(msg)
            logger.warning("hls4ml: %s", msg)
    return result


def _reference_outputs(reference, inputs: np.ndarray) -> np.ndarray:
    """Run qonnx's ``execute_onnx`` one sample at a time on ``inputs``."""
    from qonnx.core.onnx_exec import execute_onnx

    iname = reference.graph.input[0].name
    oname = reference.graph.output[0].name
    ishape = reference.get_tensor_shape(iname)
    outs = []
    for x in inputs:
        x1 = np.ascontiguousarray(x, dtype=np.float32).reshape(ishape)
        outs.append(execute_onnx(reference, {iname: x1})[oname].reshape(-1))
    return np.stack(outs)


def run_hls4ml(
    onnx_path: str,
    inputs: np.ndarray,
    work_dir: str,
    *,
    default_precision: str = DEFAULT_PRECISION,
    input_precision: str | None = None,
    io_type: str = "io_parallel",
    backend: str = "Vitis",
    n_check: int = 32,
    project_name: str = "myproject",
) -> dict:
    """Convert, compile and run a QONNX model with hls4ml; time each stage.

    Args:
        onnx_path: Path to the QONNX model.
        inputs: float32 array, ``(N, *input_shape_without_batch)`` or any shape
            with ``N`` leading and the per-sample size matching the model input
            (e.g. ``(N, 1, 28, 28)`` or ``(N, 784)`` for TFC).
        work_dir: Directory for the generated hls4ml project (created).
        default_precision: hls4ml model-level default precision; applies to
            everything not inferred from Quant nodes (input, BN scale/bias,
            output scaling).
        input_precision: Precision of the graph input layer; defaults to
            ``default_precision``.
        io_type: ``"io_parallel"`` or ``"io_stream"``.
        backend: hls4ml backend name (only its C simulation is used).
        n_check: Number of samples compared against qonnx ``execute_onnx``
            (0 disables the check).
        project_name: hls4ml project name.

    Returns:
        dict with keys ``convert_s`` (clean-up + config + convert),
        ``compile_s`` (write + g++), ``predict_s`` (one ``predict`` call on the
        whole batch), ``n`` (batch size), ``predict_us_per_sample``,
        ``predictions`` (``(N, n_out)`` array), and, if ``n_check > 0``,
        ``n_checked``, ``max_abs_diff`` and ``argmax_agree`` (fraction of checked
        samples whose argmax matches qonnx).
    """
    import hls4ml
    from hls4ml.converters.onnx_to_hls import replace_char_inconsitency

    inputs = np.ascontiguousarray(inputs, dtype=np.float32)
    n = int(inputs.shape[0])
    os.makedirs(work_dir, exist_ok=True)
    output_dir = os.path.join(work_dir, "hls4ml_prj")

    t0 = time.perf_counter()
    model, reference = _clean_for_hls4ml(onnx_path)
    config = _quiet(
        hls4ml.utils.config.config_from_onnx_model,
        model,
        granularity="name",
        backend=backend,
        default_precision=default_precision,
    )
    in_layer = replace_char_inconsitency(
        next(i.name for i in model.graph.input if model.get_initializer(i.name) is None)
    )
    if in_layer in config["LayerName"]:
        config["LayerName"][in_layer]["Precision"]["result"] = input_precision or default_precision
    else:
        logger.warning("input layer %r not in hls4ml config; input uses the model default", in_layer)
    hls_model = _quiet(
        hls4ml.converters.convert_from_onnx_model,
        model,
        output_dir=output_dir,
        project_name=project_name,
        backend=backend,
        io_type=io_type,
        hls_config=config,
    )
    convert_s = time.perf_counter() - t0
    logger.info("hls4ml convert: %.3f s", convert_s)

    t0 = time.perf_counter()
    _quiet(hls_model.compile)
    compile_s = time.perf_counter() - t0
    logger.info("hls4ml write+compile: %.3f s", compile_s)

    # hls4ml's predict infers the sample count from the per-sample input size
    # and calls the compiled C++ once per sample through ctypes.
    per_sample_shape = tuple(hls_model.get_input_variables()[0].shape)
    batch = inputs.reshape((n,) + per_sample_shape)
    t0 = time.perf_counter()
    predictions = hls_model.predict(batch)
    predict_s = time.perf_counter() - t0
    predictions = np.asarray(predictions).reshape(n, -1)
    logger.info(
        "hls4ml predict: %.3f s for %d samples (%.2f us/sample)", predict_s, n, 1e6 * predict_s / max(n, 1)
    )

    result = {
        "convert_s": convert_s,
        "compile_s": compile_s,
        "predict_s": predict_s,
        "n": n,
        "predict_us_per_sample": 1e6 * predict_s / max(n, 1),
        "predictions": predictions,
    }

    if n_check > 0:
        k = min(n_check, n)
        ref = _reference_outputs(reference, inputs[:k])
        diff = np.abs(predictions[:k] - ref)
        result["n_checked"] = k
        result["max_abs_diff"] = float(diff.max())
        result["argmax_agree"] = float(np.mean(predictions[:k].argmax(1) == ref.argmax(1)))
        logger.info(
            "vs qonnx execute_onnx on %d samples: max|diff| = %.3g, argmax agreement = %.3f",
            k,
            result["max_abs_diff"],
            result["argmax_agree"],
        )
    return result


if __name__ == "__main__":
    import argparse
    import tempfile

    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=os.path.join(here, "..", "tests", "models", "TFC_2W2A.onnx"))
    parser.add_argument("-n", type=int, default=2000, help="batch size")
    parser.add_argument("--io-type", default="io_parallel", choices=["io_parallel", "io_stream"])
    parser.add_argument("--precision", default=DEFAULT_PRECISION)
    parser.add_argument("--n-check", type=int, default=200)
    args = parser.parse_args()

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    x = np.random.default_rng(0).standard_normal((args.n, 1, 28, 28)).astype(np.float32)
    with tempfile.TemporaryDirectory(prefix="hls4ml_ref_") as tmp:
        res = run_hls4ml(
            args.model, x, tmp, default_precision=args.precision, io_type=args.io_type, n_check=args.n_check
        )
    print(f"model          : {os.path.normpath(args.model)}")
    print(f"io_type        : {args.io_type}, default precision {args.precision}")
    print(f"n              : {res['n']}")
    print(f"convert_s      : {res['convert_s']:.3f}")
    print(f"compile_s      : {res['compile_s']:.3f}")
    print(f"predict_s      : {res['predict_s']:.3f}")
    print(f"predict/sample : {res['predict_us_per_sample']:.2f} us")
    if "max_abs_diff" in res:
        print(
            f"vs qonnx ({res['n_checked']} samples): max|diff| = {res['max_abs_diff']:.3g}, "
            f"argmax agree = {res['argmax_agree']:.3f}"
        )
