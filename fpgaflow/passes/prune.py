"""Remove pruned neurons from the hardware graph (what FINN/hls4ml users call "simplify").

Between two matrix-vector units A -> B:
- an output channel of A whose weight column is all zero is constant (its activation is the
  code for accumulator 0); it is removed and its constant contribution ``code * B[c, :]`` is
  folded into B's thresholds (or into the host's integer offset when B is the last layer);
- an output channel of A that B never reads (B's weight row all zero) is removed from both.
The layers shrink; results are unchanged.
"""

from __future__ import annotations

import logging

import numpy as np

from fpgaflow.ir import HardwareGraph
from fpgaflow.layers.mvau import MatrixVectorUnit

log = logging.getLogger(__name__)


def remove_dead_neurons(hg: HardwareGraph) -> list[str]:
    """Shrink ``hg`` in place; returns a note per removal for the report."""
    notes = []
    changed = True
    while changed:
        changed = False
        for a in hg.layers:
            readers = hg.consumers(a.outputs[0])
            b = readers[0] if len(readers) == 1 else None
            # dense layers feeding each other directly (a convolution's padding would break the constants)
            if not (isinstance(a, MatrixVectorUnit) and isinstance(b, MatrixVectorUnit)) or a.table is None \
                    or a.vectors != 1 or b.vectors != 1:
                continue
            constant = np.all(a.weights == 0, axis=0)
            unused = np.all(b.weights == 0, axis=1)
            drop = constant | unused
            if drop.all():
                drop[np.flatnonzero(~unused)[:1] if (~unused).any() else 0] = False  # keep one channel
            if not drop.any():
                continue
            codes = a.table.apply(np.zeros((1, a.mh), dtype=np.int64))[0]
            fold = constant & ~unused & drop
            offset = (codes[fold][:, None] * b.weights[fold]).sum(axis=0)
            keep = ~drop
            carried = hg.stream_tensors.get(a.outputs[0])
            if carried is not None:
                kept = np.arange(len(drop)) if carried["channels"] is None else np.asarray(carried["channels"])
                carried["channels"] = kept[keep].tolist()
            a.weights = a.weights[:, keep]
            a.table.values = a.table.values[keep]
            b.weights = b.weights[keep]
            if b.table is not None:
                b.table.values = b.table.values - offset[:, None]
            else:
                hg.host_out.offset = hg.host_out.offset + offset
            note = (f"{a.name}: removed {int(drop.sum())} of {len(drop)} neurons ({int(constant.sum())} constant, "
                    f"{int(unused.sum())} unused by {b.name})")
            log.info(note)
            notes.append(note)
            changed = True
    return notes
