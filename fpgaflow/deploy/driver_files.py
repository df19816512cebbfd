"""Write ``DIR/driver``: the PYNQ driver package and the design it drives."""

from __future__ import annotations

import logging
import shutil
from importlib import resources
from pathlib import Path

from fpgaflow import streamio
from fpgaflow.deploy import pynq_driver
from fpgaflow.interface import write_design
from fpgaflow.ir import HardwareGraph

log = logging.getLogger(__name__)

PACKAGE = "fpgaflow_driver"
#: The driver package's copy of :mod:`fpgaflow.streamio` (``DIR/driver/fpgaflow_driver/streamio``).
SHIPPED = "streamio"
#: The deployment notebook (notebooks/ in the repository), copied into every driver folder.
NOTEBOOK = "2_deploy_on_pynq.ipynb"
_IGNORE = shutil.ignore_patterns("__pycache__")


def unsupported_host_ops(hg: HardwareGraph) -> list[str]:
    """Host-side ops the numpy driver cannot run (the board would need onnxruntime for them)."""
    graphs = [g for g in (hg.host_in.graph, hg.host_out.graph) if g is not None]
    return sorted({n.op_type for g in graphs for n in g.nodes} - streamio.supported_ops())


def copy_package(driver: Path) -> Path:
    """Copy the driver package into ``driver``, with :mod:`fpgaflow.streamio` inside it; numpy is
    all it needs."""
    package = Path(driver) / PACKAGE
    if package.exists():
        shutil.rmtree(package)
    shutil.copytree(Path(pynq_driver.__file__).parent, package, ignore=_IGNORE)
    shutil.copytree(Path(streamio.__file__).parent, package / SHIPPED, ignore=_IGNORE)
    return package


def write_driver(hg: HardwareGraph, out_dir: Path, layouts: tuple | None = None) -> Path:
    """Write ``out_dir/driver``: the ``fpgaflow_driver`` package, the design file with its host
    constants (:func:`fpgaflow.interface.write_design`) and the deployment notebook.

    ``layouts``: the input and output :class:`~fpgaflow.streamio.StreamLayout` of the AXI4-Stream
    ports, by default :func:`fpgaflow.interface.port_layouts` of ``hg``.
    """
    driver = Path(out_dir) / "driver"
    driver.mkdir(parents=True, exist_ok=True)
    copy_package(driver)
    write_design(hg, driver, layouts)
    shutil.copyfile(Path(str(resources.files("fpgaflow.notebooks"))) / NOTEBOOK, driver / "deploy_on_pynq.ipynb")
    missing = unsupported_host_ops(hg)
    if missing:
        log.warning("the driver's numpy host edges cannot run %s", ", ".join(missing))
    log.info("wrote the PYNQ driver to %s", driver)
    return driver
