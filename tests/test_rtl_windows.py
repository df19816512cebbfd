"""RTL of the window kits (fpgaflow/rtl/windows.py: sliding window, max and sum pooling) under Verilator:
bit-exact against the kits' reference with random input gaps and output stalls, one schedule
iteration per cycle without (cycles per frame = ``cycles()``), and each output token at the kit's
port ``pipeline_depth() - 1`` cycles after its iteration (the FIFO after the kit is the last cycle)."""

from __future__ import annotations


import pytest

from fpgaflow.ir import IntSpec
from fpgaflow.layers.pool import Pool
from fpgaflow.layers.sliding_window import SlidingWindow, Window
from fpgaflow.rtl.windows import bus_code
from test_rtl_kits import check_kit, needs_verilator, yosys_stat

SIGNED, UNSIGNED, BIPOLAR = IntSpec(-8, 7), IntSpec(0, 5), IntSpec(-1, 1, True)

#: name -> (spec, Window(C, H, W, kernel, stride, pads), pad_code, SIMD)
WINDOWS = {
    "k3s1": (SIGNED, Window(4, 5, 5, (3, 3)), 0, 2),
    "k3s1_simd1": (SIGNED, Window(4, 5, 5, (3, 3)), 0, 1),
    "k3s1_simd_c": (SIGNED, Window(4, 5, 5, (3, 3)), 0, 4),
    "k3s2_pad1": (UNSIGNED, Window(3, 6, 7, (3, 3), (2, 2), (1, 1, 1, 1)), 3, 3),
    "k1": (UNSIGNED, Window(6, 3, 4, (1, 1)), 0, 2),
    "k1s2": (SIGNED, Window(2, 5, 4, (1, 1), (2, 2)), 0, 1),
    "k2x3_nonsquare": (SIGNED, Window(2, 5, 6, (2, 3), (1, 2), (0, 1, 1, 0)), -5, 1),
    "k2s3_skips_rows": (UNSIGNED, Window(2, 7, 8, (2, 2), (3, 3)), 0, 2),
    "bipolar_pad1": (BIPOLAR, Window(4, 4, 4, (3, 3), (1, 1), (1, 1, 1, 1)), -1, 4),
    "bipolar_k2s2": (BIPOLAR, Window(8, 4, 6, (2, 2), (2, 2)), 1, 2),
    "maxpool_window_k2s2": (SIGNED, Window(3, 5, 5, (2, 2), (2, 2)), -8, 3),
}
SLOW_WINDOWS = {"cnv_first": (UNSIGNED, Window(3, 16, 16, (3, 3)), 0, 3),
                "pad2_k5": (SIGNED, Window(4, 9, 8, (5, 5), (1, 1), (2, 2, 2, 2)), 0, 2)}
#: Cases the default run leaves to the slow one (their features are covered by the others).
SLOW = {"k3s1_simd1", "k3s1_simd_c", "k1s2", "bipolar_k2s2", "max_pe_c"}

#: name -> (in_spec, channels, window positions, pixels, mode, PE)
POOLS = {
    "max_k2s2": (SIGNED, 6, 4, 4, "max", 2),
    "max_pe_c": (UNSIGNED, 4, 4, 3, "max", 4),
    "max_bipolar": (BIPOLAR, 8, 4, 3, "max", 4),
    "sum_avg3x3": (UNSIGNED, 4, 9, 4, "sum", 2),
    "sum_global": (SIGNED, 3, 16, 1, "sum", 1),
}


def cases(table: dict) -> list:
    """The names of ``table``, those in SLOW marked slow."""
    return [pytest.param(name, marks=[pytest.mark.slow] if name in SLOW else []) for name in sorted(table)]


def first_write(layer) -> int:
    """Index of the first schedule iteration that writes a token."""
    done = 0
    for phase in layer.schedule():
        if any(phase.writes):
            return done
        done += phase.count
    raise AssertionError(f"{layer.name}: the schedule writes nothing")


def check_window_kit(layer, work):
    """check_kit, and the first output at the port ``pipeline_depth() - 1`` cycles after its iteration."""
    result = check_kit(layer, work)
    assert result["first_out"] == first_write(layer) + layer.pipeline_depth() - 1, result
    return result


def make_window(name: str, case) -> SlidingWindow:
    """The sliding-window kit of a WINDOWS entry."""
    spec, window, pad_code, simd = case
    return SlidingWindow(f"sw_{name}", spec, window, pad_code=pad_code, simd=simd)


def make_pool(name: str, case) -> Pool:
    """The pooling kit of a POOLS entry."""
    spec, channels, size, pixels, mode, pe = case
    return Pool(f"pool_{name}", spec, channels, size, pixels, mode=mode, pe=pe)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """The kits' RTL in a fresh folder (the Verilator builds are cached by test_rtl_kits)."""
    return tmp_path_factory.mktemp("rtl_windows")


@needs_verilator
@pytest.mark.parametrize("name", cases(WINDOWS))
def test_sliding_window_rtl(name, work):
    print(check_window_kit(make_window(name, WINDOWS[name]), work))


@needs_verilator
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW_WINDOWS))
def test_sliding_window_rtl_larger(name, work):
    print(check_window_kit(make_window(name, SLOW_WINDOWS[name]), work))


@needs_verilator
@pytest.mark.parametrize("name", cases(POOLS))
def test_pool_rtl(name, work):
    print(check_window_kit(make_pool(name, POOLS[name]), work))


def test_bipolar_pad_token():
    """Bipolar pad codes -1 and 0 (the lowering's max-pool pad) are bus 0, +1 is bus 1 (as in the HLS kernel)."""
    assert [bus_code(pad, BIPOLAR) for pad in (-1, 0, 1)] == [0, 0, 1]
    assert [bus_code(pad, SIGNED) for pad in (-8, -1, 0, 7)] == [8, 15, 0, 7]


@pytest.mark.parametrize("kit", ["window", "pool"])
def test_window_rtl_synthesizes(kit, tmp_path):
    layer = make_window("synth", WINDOWS["k3s2_pad1"]) if kit == "window" else make_pool("synth", POOLS["max_k2s2"])
    stat = yosys_stat(layer, tmp_path)
    assert "LUT" in stat and "FDRE" in stat, stat
