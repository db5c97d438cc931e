#!/usr/bin/env python3
"""Executes the notebooks in notebooks/*.ipynb top to bottom, as a test.

    python notebooks/run_notebooks.py                  # check stripped, run all
    python notebooks/run_notebooks.py quant-backtest   # run some (name or path)
    python notebooks/run_notebooks.py --check-stripped # only check the stripping
    python notebooks/run_notebooks.py --out DIR        # also save executed copies in DIR
    python notebooks/run_notebooks.py --strip          # strip outputs in place, then stop

Each notebook runs in a fresh kernel of *this* Python (the interpreter that
runs the script, so run it with the virtualenv's python), with the working
directory notebooks/, a per-cell timeout, and a wall-time limit per notebook
(120 s by default). It fails (exit 1) on any cell error, on a notebook over
the limit, or on a committed notebook with outputs or execution counts.

Executed notebooks are never written back over the committed .ipynb files
(outputs stay out of git); --out saves executed copies elsewhere.
Requirements: notebooks/requirements.txt.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # colours in kernel tracebacks

# The first cell of each run (in memory only): the kernel must be this Python.
KERNEL_CHECK = (
    "import sys, os\n"
    "assert os.path.realpath(sys.prefix) == {prefix!r}, "
    "f'kernel runs {{sys.executable}}, not the runner\\'s Python'"
)


def notebooks(names: list[str]) -> list[Path]:
    every = sorted(HERE.glob("*.ipynb"))
    if not names:
        return every
    picked = []
    for name in names:
        p = Path(name)
        cands = [p] if p.suffix == ".ipynb" and p.exists() else [HERE / name, HERE / f"{name}.ipynb"]
        hit = next((c.resolve() for c in cands if c.exists()), None)
        if hit is None:
            sys.exit(f"run_notebooks: no notebook {name!r} (have: {', '.join(n.stem for n in every)})")
        picked.append(hit)
    return picked


def unstripped(path: Path) -> list[str]:
    """What keeps a notebook from being stripped: outputs, execution counts."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {i} has {len(cell.outputs)} output(s)")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {i} has execution_count {cell.execution_count}")
    return problems


def strip(path: Path) -> bool:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
            cell.outputs, cell.execution_count, changed = [], None, True
    if changed:
        nbformat.write(nb, path)
    return changed


def kernel_dir() -> Path:
    """A kernelspec named python3 whose argv is this interpreter, found first
    through JUPYTER_PATH (ahead of any user or system python3 kernelspec)."""
    root = Path(tempfile.mkdtemp(prefix="run-notebooks-kernel-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    spec = root / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (run_notebooks)",
        "language": "python",
        "metadata": {"debugger": False},
    }))
    return root


def run(path: Path, cell_timeout: int, out_dir: Path | None) -> tuple[float, str | None]:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    check = nbformat.v4.new_code_cell(KERNEL_CHECK.format(prefix=os.path.realpath(sys.prefix)))
    check.id = "run-notebooks-kernel-check"
    nb.cells.insert(0, check)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=cell_timeout,
        resources={"metadata": {"path": str(HERE)}},  # the kernel's working directory
    )
    start = time.perf_counter()
    error = None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        error = ANSI.sub("", f"{type(exc).__name__}: {exc}")
    wall = time.perf_counter() - start
    if out_dir is not None:
        nb.cells.pop(0)
        out_dir.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out_dir / path.name)
    return wall, error


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="notebooks to run (default: notebooks/*.ipynb)")
    ap.add_argument("--check-stripped", action="store_true",
                    help="only check that the notebooks have no outputs or execution counts")
    ap.add_argument("--strip", action="store_true", help="strip outputs and execution counts in place, then stop")
    ap.add_argument("--max-seconds", type=float, default=120.0, help="wall-time limit per notebook (default 120)")
    ap.add_argument("--cell-timeout", type=int, default=300, help="timeout per cell in seconds (default 300)")
    ap.add_argument("--out", type=Path, help="save the executed notebooks in this directory")
    args = ap.parse_args()
    paths = notebooks(args.names)
    if not paths:
        print("run_notebooks: no notebooks found", file=sys.stderr)
        return 1

    if args.strip:
        for p in paths:
            print(f"{p.name}: {'stripped' if strip(p) else 'already stripped'}")
        return 0

    dirty = {p.name: unstripped(p) for p in paths}
    dirty = {k: v for k, v in dirty.items() if v}
    for name, problems in dirty.items():
        print(f"FAIL {name}: not stripped ({'; '.join(problems[:3])}"
              f"{'; …' if len(problems) > 3 else ''}); run notebooks/run_notebooks.py --strip")
    if args.check_stripped:
        if not dirty:
            print(f"{len(paths)} notebooks stripped")
        return 1 if dirty else 0

    if args.out is not None and args.out.resolve() == HERE:
        sys.exit("run_notebooks: --out must not be notebooks/ (executed outputs stay out of git)")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(kernel_dir())] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p])
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")

    failed = passed = 0
    for p in paths:
        wall, error = run(p, args.cell_timeout, args.out)
        if error is None and wall > args.max_seconds:
            error = f"took {wall:.1f} s, over the {args.max_seconds:.0f} s limit"
        if error is None and p.name in dirty:
            error = "ran, but the committed file is not stripped (see above)"
        if error is None:
            passed += 1
            print(f"ok   {p.name}: {wall:.1f} s", flush=True)
        else:
            failed += 1
            print(f"FAIL {p.name}: {wall:.1f} s\n{error}", flush=True)
    print(f"notebooks: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
