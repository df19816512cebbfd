"""The model input's qonnx datatype annotation (an integer input without an input quantizer).

The design file records it as ``{"name", "min", "max"}`` (:func:`annotation`), and
:func:`fpgaflow.streamio.check_codes` checks inputs against that record, here and on the board.
"""

from __future__ import annotations

import numpy as np
from qonnx.core.datatype import DataType

from fpgaflow.errors import UserError
from fpgaflow.streamio import InputError, check_codes


def annotation(dtype: str | None) -> dict | None:
    """The qonnx datatype ``dtype`` as the design file records it: name and code range, or None."""
    if dtype is None:
        return None
    dt = DataType[dtype]
    return {"name": dt.name, "min": int(dt.min()), "max": int(dt.max())}


def check_annotated(x: np.ndarray, dtype: str | None) -> None:
    """Raise a UserError unless every value of ``x`` is allowed by the qonnx datatype ``dtype``."""
    try:
        check_codes(x, annotation(dtype))
    except InputError as exc:
        raise UserError(str(exc)) from None


def random_codes(dtype: str, shape, rng: np.random.Generator) -> np.ndarray:
    """Random float32 values of the qonnx integer datatype ``dtype`` (bipolar: -1/+1)."""
    dt = DataType[dtype]
    if dt == DataType["BIPOLAR"]:
        return rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=shape)
    return rng.integers(int(dt.min()), int(dt.max()), size=shape, endpoint=True).astype(np.float32)
