"""Board descriptions: one YAML data file per board (part, board part, PS type, clock, resources)."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from fpgaflow.errors import UserError

RESOURCE_KEYS = ("lut", "ff", "dsp", "bram18", "uram")


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


def _parse(data: object, origin: str) -> Board:
    if not isinstance(data, dict):
        raise UserError(f"{origin}: a board file must be a YAML mapping")
    missing = [k for k in ("name", "part", "board_part", "ps", "clock_mhz", "resources") if k not in data]
    if missing:
        raise UserError(f"{origin}: board file lacks {', '.join(missing)}")
    res = data["resources"]
    if not isinstance(res, dict) or any(k not in res for k in RESOURCE_KEYS[:4]):
        raise UserError(f"{origin}: 'resources' must give lut, ff, dsp and bram18")
    if data["ps"] not in ("ps7", "ps8"):
        raise UserError(f"{origin}: ps must be ps7 (Zynq-7000) or ps8 (Zynq UltraScale+), not {data['ps']!r}")
    try:
        clock = float(data["clock_mhz"])
        counts = {k: int(res.get(k, 0)) for k in RESOURCE_KEYS}
    except (TypeError, ValueError) as exc:
        raise UserError(f"{origin}: clock_mhz and resources must be numbers ({exc})") from None
    if clock <= 0:
        raise UserError(f"{origin}: clock_mhz must be positive")
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
