"""The RTL backend's table: one writer per layer kit kind, as :mod:`fpgaflow.codegen.bindings` is the HLS one."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from fpgaflow.errors import UserError


@dataclass
class RtlModule:
    """A layer's generated Verilog: the module (named after the layer) and every file written for it."""

    name: str
    files: list[Path] = field(default_factory=list)


#: kit kind -> ``writer(layer, rtl_dir) -> RtlModule``.
RTL_WRITERS: dict[str, Callable[[object, Path], RtlModule]] = {}


def rtl_writer(*kinds: str):
    """Register the decorated function as the RTL writer of kits of ``kinds``."""
    def register(fn):
        for kind in kinds:
            RTL_WRITERS[kind] = fn
        return fn
    return register


def write_layer(layer, rtl_dir: Path) -> RtlModule:
    """Write ``layer``'s Verilog module (and its ROM files) into ``rtl_dir``."""
    writer = RTL_WRITERS.get(layer.kind)
    if writer is None:
        raise UserError(f"--rtl: layer {layer.name} is a {layer.kind} kit, which the RTL backend does not have yet "
                        f"(it has: {', '.join(sorted(RTL_WRITERS)) or 'none'}); build without --rtl")
    return writer(layer, Path(rtl_dir))
