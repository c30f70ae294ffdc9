"""bench/results.md in sections: each part of the benchmark rewrites its own and keeps the others.

A section runs from `<!-- section: NAME -->` to `<!-- end: NAME -->`; text outside any section (the
hand-written analysis) is kept as it is.
"""
from pathlib import Path

RESULTS = Path(__file__).parent / "results.md"


def write_section(name: str, text: str, path: Path = RESULTS) -> None:
    start, end = f"<!-- section: {name} -->", f"<!-- end: {name} -->"
    block = f"{start}\n{text.rstrip()}\n{end}"
    current = path.read_text() if path.exists() else ""
    if start in current and end in current:
        before, rest = current.split(start, 1)
        after = rest.split(end, 1)[1]
        updated = before + block + after
    else:
        updated = (current.rstrip() + "\n\n" if current.strip() else "") + block + "\n"
    path.write_text(updated)
