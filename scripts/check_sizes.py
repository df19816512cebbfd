"""List modules over 400 lines and functions over 60 lines in a package (issue 15's limits).

    python scripts/check_sizes.py [fpgaflow]

Exit status 1 when anything is over.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def oversized(root: Path) -> list[str]:
    """One line per module or function over the limits under ``root``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text()
        lines = text.count("\n")
        if lines > MAX_MODULE_LINES:
            found.append(f"{path}: module of {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{path}:{node.lineno}: function {node.name} of {length} lines")
    return found


if __name__ == "__main__":
    problems = oversized(Path(sys.argv[1] if len(sys.argv) > 1 else "fpgaflow"))
    print("\n".join(problems) or "all within limits")
    sys.exit(1 if problems else 0)
