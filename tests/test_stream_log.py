"""The cycle simulator against the C simulation, stream by stream.

The C simulation (built with its stream log) records every token written to every stream.
The simulator's streams must carry the same tokens: the same count per stream (from the
kits' loop schedules, as the engine moves them) and the same values (from the kits' integer
references, which the simulator's tokens stand for).
"""

import pytest

from brevitas_cnns import make_cnn
from brevitas_mlps import make_mlp
from fpgaflow.boards import load_board
from fpgaflow.build import BuildOptions, build, hardware_graph
from fpgaflow.csim import stream_log
from fpgaflow.sim.pipeline import run_engine
from fpgaflow.sim.tokens import stream_tokens
from fpgaflow.verify import random_inputs

FRAMES = 3


@pytest.mark.parametrize("which", ["tfc", "cnv_w2a2", "pruned90", "residual"])
def test_simulator_streams_equal_csim_stream_log(tmp_path, models_dir, which):
    if which == "tfc":
        path = models_dir / "TFC_1W2A.onnx"
    elif which == "pruned90":  # sparse layers
        path = make_mlp("pruned90", tmp_path, seed=0)
    else:
        path = make_cnn(which, tmp_path, seed=0)
    options = BuildOptions(board=load_board("pynq-z2"), out_dir=tmp_path / "build", csim=False)
    build(path, options)
    hg, _ = hardware_graph(path, options)
    if which == "pruned90":
        assert any(getattr(l, "is_sparse", False) for l in hg.layers)
    x = random_inputs(hg.input_shape, FRAMES, seed=2)

    logged = stream_log(tmp_path / "build", x)
    expected = stream_tokens(hg, hg.host_in(x))
    moved = {q["name"]: q["tokens"] for q in run_engine(tmp_path / "build" / "sim" / "pipeline.txt", FRAMES)["fifos"]}

    assert set(logged) == set(expected) == set(moved)
    for stream, tokens in expected.items():
        assert logged[stream].shape == tokens.shape, stream
        assert (logged[stream] == tokens).all(), stream
        assert moved[stream] == len(tokens), stream
