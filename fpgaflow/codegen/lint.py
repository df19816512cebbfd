"""A lint pass over the generated HLS C++: the synthesizable subset Vitis HLS accepts.

It reads what synthesis sees (top.cpp, config.h, params.h and the kernel headers, with the
``#ifndef __SYNTHESIS__`` parts left out) and reports:
- dynamic memory (``new``, ``delete``, ``malloc`` ...), STL containers, virtual functions;
- a function that calls itself (direct recursion);
- a ``#pragma HLS`` that is not one of the known directives;
- a stream of the dataflow region that does not have exactly one writer and one reader.
The build runs it on every generated project; a finding is a bug in fpgaflow's generator.
"""

from __future__ import annotations

import re
from pathlib import Path

KNOWN_PRAGMAS = frozenset({
    "PIPELINE", "UNROLL", "DATAFLOW", "INTERFACE", "STREAM", "ARRAY_PARTITION", "ARRAY_RESHAPE", "INLINE",
    "BIND_STORAGE", "BIND_OP", "LOOP_TRIPCOUNT", "LOOP_FLATTEN", "LOOP_MERGE", "DEPENDENCE", "RESOURCE",
})
_FORBIDDEN = (
    (re.compile(r"\bnew\b|\bdelete\b|\b(malloc|calloc|realloc|free)\s*\("), "dynamic memory"),
    (re.compile(r"std::(vector|list|map|set|deque|string|unordered_\w+|unique_ptr|shared_ptr)\b"), "an STL container"),
    (re.compile(r"#include\s*<(vector|list|map|set|deque|string|memory|unordered_map|unordered_set)>"),
     "an STL container header"),
    (re.compile(r"\bvirtual\b"), "a virtual function"),
)
_CONDITIONAL = re.compile(r"^\s*#\s*(ifndef|ifdef|if|elif|else|endif)\b(.*)$")


def synthesis_text(source: str) -> str:
    """``source`` without comments, string literals and the parts compiled only outside synthesis."""
    source = re.sub(r"/\*.*?\*/", " ", source, flags=re.S)
    source = re.sub(r"//[^\n]*", "", source)
    source = re.sub(r'"(\\.|[^"\\])*"', '""', source)
    kept, stack = [], []  # per open conditional: (about __SYNTHESIS__, branch left out of synthesis)
    for line in source.splitlines():
        m = _CONDITIONAL.match(line)
        if m:
            kind, cond = m.group(1), m.group(2)
            if kind in ("ifndef", "ifdef", "if"):
                related = "__SYNTHESIS__" in cond
                negated = kind == "ifndef" or bool(re.search(r"!\s*defined\s*\(?\s*__SYNTHESIS__", cond))
                stack.append((related, related and negated))
            elif kind == "else" and stack and stack[-1][0]:
                stack[-1] = (True, not stack[-1][1])
            elif kind == "endif" and stack:
                stack.pop()
            continue
        if not any(hidden for _, hidden in stack):
            kept.append(line)
    return "\n".join(kept)


def _recursion(name: str, text: str) -> list[str]:
    """Functions of ``text`` whose own body calls them."""
    found = []
    for m in re.finditer(r"\b(\w+)\s*\([^;{}()]*(?:\([^()]*\)[^;{}()]*)*\)\s*(?:const\s*)?\{", text):
        fn = m.group(1)
        if fn in ("if", "for", "while", "switch", "return"):
            continue
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if re.search(r"\b%s\s*(<[^;]*?>)?\s*\(" % re.escape(fn), text[m.end():i]):
            found.append(f"{name}: function {fn} calls itself (recursion)")
    return found


def _stream_users(top: str) -> list[str]:
    """Streams of the dataflow region without exactly one writer and one reader (two uses)."""
    core = re.search(r"_core\([^)]*\)\s*\{(.*?)\n\}", top, re.S)
    if core is None:
        return ["top.cpp: no dataflow core function"]
    body = core.group(1)
    problems = []
    for name in re.findall(r"static\s+fpgaflow::stream<.*?>\s+(\w+)\(", body):
        calls = [c for c in re.findall(r"fpgaflow::\w+<\w+>\(([^;]*)\);", body) if re.search(rf"\b{name}\b", c)]
        if len(calls) != 2:
            problems.append(f"top.cpp: stream {name} has {len(calls)} users; a dataflow stream needs one writer "
                            "and one reader")
    return problems


def lint_hls(hls_dir: str | Path) -> list[str]:
    """Findings in the synthesis sources of ``hls_dir`` (empty: it is in the synthesizable subset)."""
    hls_dir = Path(hls_dir)
    paths = [hls_dir / n for n in ("top.cpp", "config.h", "params.h")] + sorted((hls_dir / "fpgaflow").glob("*.h"))
    problems = []
    for path in paths:
        raw = path.read_text()
        name = path.relative_to(hls_dir).as_posix()
        for pragma in re.findall(r"#\s*pragma\s+HLS\s+(\w+)", raw):
            if pragma.upper() not in KNOWN_PRAGMAS:
                problems.append(f"{name}: unknown pragma HLS {pragma}")
        text = synthesis_text(raw)
        problems += [f"{name}: {what}" for pattern, what in _FORBIDDEN if pattern.search(text)]
        problems += _recursion(name, text)
    return problems + _stream_users(synthesis_text((hls_dir / "top.cpp").read_text()))
