"""The ``fpgaflow`` command line (a contract: see DESIGN.md)."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
import traceback
from pathlib import Path

import click
import numpy as np
from rich.console import Console

from fpgaflow import __version__
from fpgaflow.errors import UserError

err = Console(stderr=True, highlight=False)


def _progress(quiet: bool):
    @contextlib.contextmanager
    def step(title: str):
        start = time.perf_counter()
        if quiet:
            yield
            return
        with err.status(title + " ..."):
            yield
        err.print(f"[green]done[/green] {title} ({time.perf_counter() - start:.1f} s)")

    return step


def _fail(exc: BaseException, debug: bool) -> None:
    if isinstance(exc, UserError):
        err.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        sys.exit(2)
    err.print(f"[red]internal error:[/red] {type(exc).__name__}: {exc}", soft_wrap=True)
    if debug:
        err.print(traceback.format_exc())
    else:
        err.print("(run with --debug for the traceback)")
    sys.exit(1)


@contextlib.contextmanager
def _errors(ctx: click.Context):
    try:
        yield
    except (click.exceptions.Exit, click.ClickException, SystemExit):
        raise
    except Exception as exc:  # noqa: BLE001 - the CLI's one place that turns exceptions into exit codes
        _fail(exc, ctx.obj["debug"])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fpgaflow")
@click.option("--debug", is_flag=True, help="Log details and show tracebacks of internal errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Quantized neural networks (QONNX) to bit-exact streaming HLS accelerators."""
    ctx.obj = {"debug": debug}
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not debug:  # onnxruntime's own warnings (shape merges of a user's model) would break the one-line errors
        import onnxruntime

        onnxruntime.set_default_logger_severity(4)  # fatal only


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--board", default="pynq-z2", show_default=True, help="Board name or board YAML file.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Build directory [default: build/<model>].")
@click.option("--clock-mhz", type=float, help="Target clock [default: the board's].")
@click.option("--target-fps", type=float, help="Frames per second to fold for [default: 100000].")
@click.option("--target-cycles", type=int, help="Cycles per frame to fold for (instead of --target-fps).")
@click.option("--no-csim", is_flag=True, help="Skip the C simulation check against execute_onnx (the simulator is still compiled).")
@click.option("--csim-samples", type=click.IntRange(1), default=300, show_default=True,
              help="Random inputs for the C simulation check.")
@click.option("--arith", "arith", multiple=True, metavar="LAYER=KIND",
              help="Force a layer's arithmetic: xnor, ternary, shift, mac, or sparse/dense (repeatable).")
@click.option("--sparse-threshold", type=float, default=0.75, show_default=True,
              help="Zero-weight fraction from which a layer skips zeros.")
@click.option("--folding", "folding_file", type=click.Path(path_type=Path),
              help='JSON {"LAYER": {"pe": P, "simd": S}} fixing layers\' folding.')
@click.option("--bitstream", is_flag=True,
              help="Then build the bitstream with Vitis HLS and Vivado if on PATH (else print the command to run).")
@click.option("--bitstream-from", "bitstream_from", type=click.Choice(["hls", "rtl"]), default="hls", show_default=True,
              help="The bitstream's accelerator: the HLS IP (Vitis HLS + Vivado) or the generated Verilog "
                   "(Vivado alone; implies --rtl).")
@click.option("--rtl", is_flag=True, help="Also write the Verilog backend into DIR/rtl/ (for fpgaflow rtlsim and synth).")
@click.option("--quiet", is_flag=True, help="No progress output.")
@click.pass_context
def build(ctx, model, board, out_dir, clock_mhz, target_fps, target_cycles, no_csim, csim_samples, arith, sparse_threshold,
          folding_file, bitstream, bitstream_from, rtl, quiet):
    """Build MODEL.onnx into HLS C++, check it by C simulation, and report."""
    from fpgaflow.boards import load_board
    from fpgaflow.build import BuildOptions, build as run_build, default_out_dir, read_folding
    from fpgaflow.report import format_report

    with _errors(ctx):
        overrides = {}
        for item in arith:
            name, sep, kind = item.partition("=")
            if not sep or not name or not kind:
                raise UserError(f"--arith {item}: expected LAYER=KIND, e.g. --arith MatMul_0=shift")
            overrides[name] = kind
        if target_cycles is not None and target_fps is not None:
            raise UserError("--target-cycles and --target-fps: give one of them")
        options = BuildOptions(board=load_board(board), out_dir=out_dir or default_out_dir(model),
                               clock_mhz=clock_mhz, target_fps=target_fps, target_cycles=target_cycles,
                               csim=not no_csim,
                               csim_samples=csim_samples, arith=overrides, sparse_threshold=sparse_threshold,
                               folding=read_folding(folding_file) if folding_file else {},
                               bitstream=bitstream, rtl=rtl or bitstream_from == "rtl")
        report = run_build(model, options, _progress(quiet))
        if not quiet:
            click.echo(format_report(report), nl=False)
            click.echo(f"wrote {options.out_dir}/ (hls/, board/, driver/, host/, sim/, report.json, report.txt, report.html)")
        csim = report["csim"]
        if csim is not None and not csim.get("integers_equal", csim["bit_exact"]):
            err.print("[red]error:[/red] the C simulation's integers differ from execute_onnx's tensors "
                      "(see report.json 'csim'); this is a bug in fpgaflow")
            sys.exit(1)
        if csim is not None and not csim["bit_exact"]:
            err.print(f"[yellow]warning:[/yellow] integers identical to execute_onnx, but the float outputs differ "
                      f"by up to {csim['max_abs_diff']:.3g} (argmax differs on {csim['argmax_mismatches']} of "
                      f"{csim['samples']} inputs): not bit-exact; see report.json 'notes'", soft_wrap=True)
        if options.bitstream:
            _bitstream(options.out_dir, quiet, bitstream_from)


def _bitstream(out_dir: Path, quiet: bool, source: str) -> None:
    """Build the bitstream of ``out_dir`` and say what was made, or the command to run elsewhere."""
    from fpgaflow.deploy.board_scripts import run_bitstream

    result = run_bitstream(out_dir, _progress(quiet), source)
    if result.command:
        tools = "Vitis HLS and Vivado" if source == "hls" else "Vivado"
        click.echo(f"{' and '.join(result.missing)} not on PATH; build the bitstream on a machine with {tools}:\n"
                   f"  {result.command}")
    else:
        click.echo(f"wrote {' and '.join(map(str, result.files))} (the PYNQ overlay)")


@main.command()
@click.argument("build_dir", type=click.Path(path_type=Path))
@click.option("--input", "input_path", required=True, type=click.Path(path_type=Path),
              help="X.npy: float32 (N, *model input shape[1:]).")
@click.option("--output", "output_path", required=True, type=click.Path(path_type=Path), help="Y.npy to write.")
@click.pass_context
def csim(ctx, build_dir, input_path, output_path):
    """Run the batch C simulation of BUILD_DIR on X.npy and write the outputs to Y.npy."""
    from fpgaflow.csim import run_csim

    with _errors(ctx):
        if not input_path.is_file():
            raise UserError(f"--input {input_path}: no such file")
        try:
            x = np.load(input_path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise UserError(f"--input {input_path}: not a .npy array ({exc})") from None
        if output_path.exists() and output_path.is_dir():
            raise UserError(f"--output {output_path}: is a directory")
        result = run_csim(build_dir, x)
        np.save(output_path, result.outputs)
        n = len(result.outputs)
        err.print(f"{n} samples in {result.run_s:.2f} s ({result.run_s / max(n, 1) * 1e6:.1f} us/sample, host "
                  f"quantization included; {result.compile_s:.1f} s compile); wrote {output_path}")


def _frames_command(default: int, help_text: str):
    """A command on a build folder with a ``--frames`` option (``sim``, ``rtlsim``)."""
    def wrap(fn):
        fn = click.option("--frames", type=click.IntRange(1), default=default, show_default=True, help=help_text)(
            click.pass_context(fn))
        return main.command()(click.argument("build_dir", type=click.Path(path_type=Path))(fn))
    return wrap


@_frames_command(100, "Frames pushed through the pipeline back to back.")
def sim(ctx, build_dir, frames):
    """Cycle-accurate simulation of BUILD_DIR: latency, II, FPS, stalls, FIFO use (writes sim.json)."""
    from fpgaflow.sim.pipeline import simulate

    with _errors(ctx):
        result = simulate(build_dir, frames)
        if result["deadlock"]:
            blocked = ", ".join(f"{b['layer']} waits for {b['waiting_for']} on {b['waiting_on']}"
                                for b in result["blocked"])
            raise UserError(f"{build_dir}: the pipeline deadlocks after {result['total_cycles']} cycles ({blocked}); "
                            "deepen the FIFOs named")
        err.print(f"{frames} frames: latency {result['latency']:,} cycles, II {result['ii']:,.1f} cycles, "
                  f"{result['fps']:,.0f} frames/s at {result['clock_mhz']:g} MHz; bottleneck {result['bottleneck']}; "
                  f"wrote {Path(build_dir) / 'sim.json'}")


@_frames_command(200, "Frames to push through the RTL (random inputs, output back-pressure).")
@click.option("--check-fifos", is_flag=True,
              help="Also run with every FIFO 4096 deep (DIR/rtl_deep/): the sized depths must give the same II.")
def rtlsim(ctx, build_dir, frames, check_fifos):
    """Verilator simulation of BUILD_DIR's RTL against the C simulation (writes rtlsim.json)."""
    from fpgaflow.rtlsim import run_rtlsim

    with _errors(ctx):
        r = run_rtlsim(build_dir, frames, check_fifos=check_fifos)
        if r["deadlock"]:
            blocked = ", ".join(f"{b['layer']} waits for {b['waiting_for']} on {b['waiting_on']}"
                                for b in r["deadlock"]["blocked"])
            raise UserError(f"{build_dir}: the RTL deadlocks: no token moved from cycle {r['deadlock']['cycle']:,} "
                            f"on ({blocked}); see rtlsim.json")
        if r["ii"] is None:
            raise UserError(f"{build_dir}: the RTL stopped with frames still inside after {r['stalled_cycles']:,} cycles "
                            "(see rtlsim.json)")
        err.print(f"{frames} frames: bit_exact {r['bit_exact']}; II {r['ii']:g} cycles (predicted {r['predicted']['ii']}), "
                  f"latency {r['latency']:,} cycles (predicted {r['predicted']['latency']}); "
                  f"wrote {Path(build_dir) / 'rtlsim.json'}")
        if check_fifos:
            deep = r["deep_fifos"]
            err.print(f"with {deep['depth']}-deep FIFOs: II {deep['ii']} cycles; the sized FIFO depths "
                      + ("cost no throughput" if r["fifos_ok"] else "[red]lower the throughput[/red]"))
    if not (r["bit_exact"] and r["tlast_ok"]):
        err.print(f"[red]error:[/red] the RTL outputs differ from the C simulation on {r['mismatched_frames']} of "
                  f"{frames} frames (TLAST right: {r['tlast_ok']}); this is a bug in fpgaflow")
        sys.exit(1)


@main.command()
def boards():
    """List the boards fpgaflow knows."""
    from fpgaflow.boards import list_boards

    for b in list_boards():
        r = b.resources
        click.echo(f"{b.name:<12} {b.part:<20} {b.ps}  {b.clock_mhz:g} MHz  LUT {r['lut']:,}  FF {r['ff']:,}  "
                   f"DSP {r['dsp']}  BRAM18 {r['bram18']}  URAM {r['uram']}  {b.description}")


@main.command()
@click.argument("build_dir", type=click.Path(path_type=Path))
@click.option("--quiet", is_flag=True, help="No progress output and no table.")
@click.pass_context
def synth(ctx, build_dir, quiet):
    """Yosys synthesis counts of BUILD_DIR's RTL beside the estimates (writes synth.json, re-renders the report)."""
    from fpgaflow.synth import format_synth, rerender_report, synth_build

    with _errors(ctx):
        if not (Path(build_dir) / "rtl").is_dir():
            raise UserError(f"{build_dir}: no rtl/ folder; run fpgaflow build --rtl first")
        status = None if quiet else err.status("Yosys ...")
        with status or contextlib.nullcontext():
            result = synth_build(build_dir, None if quiet else lambda name: status.update(f"Yosys: {name} ..."))
        rerender_report(build_dir)
        if not quiet:
            click.echo(format_synth(result), nl=False)
        err.print(f"{result['tool']}, {result['family']}: wrote {Path(build_dir) / 'synth.json'}")


def _int_list(option: str, text: str | None) -> tuple[int, ...] | None:
    """``64,64,64`` -> (64, 64, 64); a clear error naming the option otherwise."""
    if text is None:
        return None
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise UserError(f"{option} {text}: expected comma-separated integers, e.g. 64,64,64") from None


def _one_or_list(option: str, text: str, cast):
    """A single value, or a comma-separated value per layer."""
    try:
        values = tuple(cast(v.strip()) for v in text.split(","))
    except ValueError:
        raise UserError(f"{option} {text}: expected one value or one per layer, comma-separated") from None
    return values[0] if len(values) == 1 else values


@main.command()
@click.option("--dataset", default="digits", show_default=True,
              help="digits (scikit-learn), fashion-mnist (Debian package dataset-fashion-mnist), or an .npz file "
                   "with x_train, y_train, x_test, y_test (images scaled to [0, 1]).")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Folder with Fashion-MNIST's *-ubyte.gz files.")
@click.option("--arch", type=click.Choice(["mlp", "cnv"]), default="mlp", show_default=True)
@click.option("--hidden", default="64,64,64", show_default=True, help="Hidden fully connected widths.")
@click.option("--conv", default="16,16,M,32,32,M", show_default=True,
              help="CNV only: 3x3 conv channels, M for a 2x2 max pool (the default suits 28x28 images; "
                   "8x8 digits take e.g. 16,16,M).")
@click.option("--weight", "weight", default="int", show_default=True,
              help="Weight quantizer, one or one per layer: int, binary, ternary, po2.")
@click.option("--weight-bits", default="2", show_default=True, help="Weight bits, one or one per layer.")
@click.option("--act-bits", default="2", show_default=True, help="Activation bits (1 = bipolar), one or one per hidden layer.")
@click.option("--input-bits", type=int, default=8, show_default=True, help="Bits of the input quantizer.")
@click.option("--epochs", type=click.IntRange(0), default=10, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=64, show_default=True)
@click.option("--lr", type=float, default=0.02, show_default=True, help="Adam learning rate (cosine schedule).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--threads", type=click.IntRange(1), default=1, show_default=True, help="torch CPU threads.")
@click.option("--prune", "prune_method", type=click.Choice(["magnitude", "filters", "channels"]),
              help="Prune after training: single weights by magnitude, or whole neurons/filters ranked by the "
                   "L1 norm of their own weights (filters) or of the next layer's weights reading them (channels).")
@click.option("--sparsity", default="0.5", show_default=True, help="Final pruned fraction, one or one per layer.")
@click.option("--schedule", type=click.Choice(["oneshot", "gradual"]), default="oneshot", show_default=True,
              help="Prune at once, or along a cubic ramp while fine-tuning.")
@click.option("--finetune-epochs", type=click.IntRange(1), default=5, show_default=True,
              help="Epochs of fine-tuning with the masks (also per --target-fps candidate).")
@click.option("--sensitivity", is_flag=True, help="Write the per-layer sensitivity table and plot.")
@click.option("--board", default="pynq-z2", show_default=True, help="Board for --target-fps.")
@click.option("--target-fps", type=float,
              help="Choose per-layer sparsities so the build meets this on --board (--prune then only picks the "
                   "method, filters by default; --sparsity and --schedule are the search's to choose).")
@click.option("--clock-mhz", type=float, help="Clock for --target-fps [default: the board's].")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Output folder [default: train/<dataset>_<arch>].")
@click.option("--resume", is_flag=True, help="Continue the run whose checkpoint is in --out.")
@click.option("--quiet", is_flag=True, help="No progress output.")
@click.pass_context
def train(ctx, dataset, data_dir, arch, hidden, conv, weight, weight_bits, act_bits, input_bits, epochs, batch_size,
          lr, seed, threads, prune_method, sparsity, schedule, finetune_epochs, sensitivity, board, target_fps,
          clock_mhz, out_dir, resume, quiet):
    """Train a quantized (and pruned) Brevitas network and export it to QONNX for `fpgaflow build`."""
    with _errors(ctx):
        from fpgaflow.train.flow import TrainOptions, run
        from fpgaflow.train.pruning import PruneConfig
        from fpgaflow.train.recipes import Recipe
        from fpgaflow.train.trainer import TrainConfig

        conv_items = tuple(c if c.strip().upper() == "M" else int(c) for c in conv.split(",")) if arch == "cnv" else ()
        recipe = Recipe(arch=arch, hidden=_int_list("--hidden", hidden), conv=conv_items,
                        weight=_one_or_list("--weight", weight, str),
                        weight_bits=_one_or_list("--weight-bits", weight_bits, int),
                        act_bits=_one_or_list("--act-bits", act_bits, int), input_bits=input_bits)
        try:
            recipe.per_layer()
        except ValueError as exc:
            raise UserError(f"--weight/--weight-bits/--act-bits: {exc}") from None
        prune = None
        if prune_method:
            prune = PruneConfig(method=prune_method, sparsity=_one_or_list("--sparsity", sparsity, float),
                                schedule=schedule, finetune_epochs=finetune_epochs)
        name = Path(dataset).stem if dataset.endswith(".npz") else dataset
        options = TrainOptions(out_dir=out_dir or Path("train") / f"{name}_{arch}", dataset=dataset, data_dir=data_dir,
                               recipe=recipe, config=TrainConfig(epochs, batch_size, lr, seed, threads), prune=prune,
                               sensitivity=sensitivity, board=board, target_fps=target_fps, clock_mhz=clock_mhz,
                               finetune_epochs=finetune_epochs, resume=resume, progress=not quiet)
        run(options, echo=(lambda s: None) if quiet else click.echo)
