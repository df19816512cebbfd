"""The C simulation under AddressSanitizer and UndefinedBehaviorSanitizer: no finding, same integers."""

import numpy as np
import pytest

from brevitas_cnns import make_cnn
from conftest import build_model
from fpgaflow.csim import run_csim
from fpgaflow.frontend.reference import Reference
from fpgaflow.verify import random_inputs


@pytest.mark.parametrize("kind", ["TFC_1W2A", "residual"])
def test_sanitized_csim_is_clean_and_identical(models_dir, tmp_path, kind):
    model = models_dir / f"{kind}.onnx" if kind.startswith("TFC") else make_cnn(kind, tmp_path, seed=0)
    build_model(model, tmp_path / "b")
    x = random_inputs(Reference(model).input_shape, 64, seed=3)
    plain = run_csim(tmp_path / "b", x)
    checked = run_csim(tmp_path / "b", x, sanitize=True)  # raises on any sanitizer finding (non-zero exit)
    assert np.array_equal(checked.ints, plain.ints)
