"""The notebooks run top to bottom (nbclient), the deployment one on the csim backend."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"


def run_notebook(path: Path, cwd: Path, parameters: str | None = None) -> nbformat.NotebookNode:
    """Execute ``path`` in ``cwd``; ``parameters`` replaces the cell tagged 'parameters'."""
    nb = nbformat.read(str(path), as_version=4)
    if parameters is not None:
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        cell.source = parameters
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def outputs(nb: nbformat.NotebookNode) -> str:
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


@pytest.mark.slow  # trains a model and starts three kernels: about two minutes
def test_notebooks(tmp_path):
    """Train, build and simulate; then deploy from the repository (pointing at the build) and from
    inside the copied driver folder. One test: the second notebook needs the first one's build."""
    nb = run_notebook(NOTEBOOKS / "1_train_build_simulate.ipynb", tmp_path,
                      'MODEL = None\nBOARD = "pynq-z2"\nBUILD_DIR = "build/digits_mlp"\nEPOCHS = 15\n'
                      "TARGET_FPS = 100_000")
    build = tmp_path / "build" / "digits_mlp"
    report = json.loads((build / "report.json").read_text())
    assert report["csim"]["bit_exact"] and report["fits"]
    text = outputs(nb)
    brevitas = float(text.split("Brevitas test accuracy: ")[1].split("%")[0])
    assert brevitas > 80
    assert "bit-exact against execute_onnx: True" in text
    assert (build / "driver" / "test_data.npz").is_file()
    for notebook, where in ((NOTEBOOKS / "2_deploy_on_pynq.ipynb", tmp_path),
                            (build / "driver" / "deploy_on_pynq.ipynb", build / "driver")):
        text = outputs(run_notebook(notebook, where))
        assert "running on the C simulation" in text
        accuracy = float(text.split("accuracy ")[1].split("%")[0])
        # the accelerator computes the Brevitas model exactly: the same class on (nearly) every image
        assert abs(accuracy - brevitas) <= 0.3, text


@pytest.mark.slow  # trains, fine-tunes four pruned copies and builds one: about a minute and a half
def test_train_prune_notebook(tmp_path):
    """Train -> sensitivity -> prune sweep -> build -> simulate -> target search, top to bottom."""
    nb = run_notebook(NOTEBOOKS / "3_train_prune_build.ipynb", tmp_path)
    report = json.loads((tmp_path / "build" / "digits_pruned" / "build" / "report.json").read_text())
    assert report["csim"]["bit_exact"] and report["fits"]
    text = outputs(nb)
    assert float(text.split("Brevitas test accuracy: ")[1].split("%")[0]) > 80
    assert "bit-exact against execute_onnx: True" in text
    assert "chosen: " in text
    # the sensitivity plot, accuracy vs sparsity and FPS vs LUT, each shown inline by its cell
    for title in ("Pruning sensitivity per layer", "Accuracy vs sparsity", "Throughput vs area"):
        cell = next(c for c in nb.cells if c.cell_type == "code" and title in c.source)
        assert any("image/png" in o.get("data", {}) for o in cell.outputs), f"no plot: {title}"
