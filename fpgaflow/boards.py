"""Board descriptions: one YAML data file per board (part, board part, PS type, clock, resources)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from fpgaflow.errors import UserError

RESOURCE_KEYS = ("lut", "ff", "dsp", "bram18", "uram")

#: Part-name prefixes of the devices each processing system comes in (Zynq-7000; Zynq UltraScale+
#: MPSoC / RFSoC and the Kria SOMs), commercial, automotive (xa) and defense-grade (xq).
PS_PART_PREFIXES = {"ps7": ("xc7z", "xa7z", "xq7z"), "ps8": ("xczu", "xazu", "xqzu", "xck")}
#: The fastest clock each processing system gives the programmable logic, in MHz: FCLK0 of the
#: Zynq-7000 PS (DS187/DS190) and pl_clk0 of the Zynq UltraScale+ PS (DS925).
PS_MAX_PL_CLOCK_MHZ = {"ps7": 250.0, "ps8": 333.333}
#: A board part as Vivado names it: vendor:board:component:version (e.g. tul.com.tw:pynq-z2:part0:1.0).
BOARD_PART_RE = re.compile(r"[^:\s]+:[^:\s]+:[^:\s]+:[^:\s]+")


@dataclass(frozen=True)
class Board:
    """An FPGA board the flow can target."""

    name: str
    description: str
    part: str
    board_part: str
    ps: str
    clock_mhz: float
    resources: dict = field(default_factory=dict)


def boards_dir() -> Path:
    """The folder holding the shipped board files."""
    return Path(str(resources.files("fpgaflow.boards_data")))


def part_ps(part: str) -> str | None:
    """The processing system of a Zynq part (``ps7`` or ``ps8``), or None for another device."""
    part = part.lower()
    return next((ps for ps, prefixes in PS_PART_PREFIXES.items() if part.startswith(prefixes)), None)


def _check_ps(ps: str, part: str, origin: str) -> None:
    """Refuse a ``ps`` that is not ps7/ps8 or does not match the part's device family."""
    if ps not in PS_PART_PREFIXES:
        raise UserError(f"{origin}: ps: must be ps7 (Zynq-7000) or ps8 (Zynq UltraScale+), not {ps!r}")
    family = part_ps(part)
    if family is None:
        raise UserError(f"{origin}: part: {part!r} is not a Zynq device (xc7z* for ps7, xczu*/xck* for ps8)")
    if family != ps:
        raise UserError(f"{origin}: ps: {ps} does not match part {part} (a {family} device); set ps: {family}")


def _check_board_part(board_part: str, origin: str) -> None:
    """Refuse a ``board_part`` that is not vendor:board:component:version."""
    if not BOARD_PART_RE.fullmatch(board_part):
        raise UserError(f"{origin}: board_part: {board_part!r} is not vendor:board:part0:version "
                        "(e.g. tul.com.tw:pynq-z2:part0:1.0)")


def check_pl_clock(ps: str, clock_mhz: float, where: str) -> None:
    """Refuse a clock above what the processing system can give the programmable logic."""
    limit = PS_MAX_PL_CLOCK_MHZ[ps]
    if clock_mhz > limit:
        raise UserError(f"{where}: {clock_mhz:g} MHz is above the {limit:g} MHz a {ps} processing system "
                        "can give the programmable logic")


def _parse(data: object, origin: str) -> Board:
    if not isinstance(data, dict):
        raise UserError(f"{origin}: a board file must be a YAML mapping")
    missing = [k for k in ("name", "part", "board_part", "ps", "clock_mhz", "resources") if k not in data]
    if missing:
        raise UserError(f"{origin}: board file lacks {', '.join(missing)}")
    res = data["resources"]
    if not isinstance(res, dict) or any(k not in res for k in RESOURCE_KEYS[:4]):
        raise UserError(f"{origin}: 'resources' must give lut, ff, dsp and bram18")
    _check_ps(str(data["ps"]), str(data["part"]), origin)
    _check_board_part(str(data["board_part"]), origin)
    try:
        clock = float(data["clock_mhz"])
        counts = {k: int(res.get(k, 0)) for k in RESOURCE_KEYS}
    except (TypeError, ValueError) as exc:
        raise UserError(f"{origin}: clock_mhz and resources must be numbers ({exc})") from None
    if clock <= 0:
        raise UserError(f"{origin}: clock_mhz must be positive")
    check_pl_clock(str(data["ps"]), clock, f"{origin}: clock_mhz")
    return Board(
        name=str(data["name"]),
        description=str(data.get("description", data["name"])),
        part=str(data["part"]),
        board_part=str(data["board_part"]),
        ps=str(data["ps"]),
        clock_mhz=clock,
        resources=counts,
    )


def list_boards() -> list[Board]:
    """All shipped boards, sorted by name."""
    return sorted((_parse(yaml.safe_load(p.read_text()), p.name) for p in boards_dir().glob("*.yaml")),
                  key=lambda b: b.name)


def load_board(name_or_path: str) -> Board:
    """A shipped board by name (e.g. ``pynq-z2``) or a user's board YAML file by path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise UserError(f"--board {name_or_path}: no such board file")
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise UserError(f"--board {name_or_path}: not valid YAML ({exc})") from None
        return _parse(data, str(path))
    known = {b.name: b for b in list_boards()}
    if name_or_path not in known:
        raise UserError(f"--board {name_or_path}: unknown board; known boards: {', '.join(sorted(known))} "
                        "(or pass a board YAML file)")
    return known[name_or_path]
