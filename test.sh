#!/usr/bin/env bash
# Every test of the project, as the README's second command: the Rust suite
# (unit, integration, doctests), the CLI walkthroughs (notebooks/*.md), and
# the Python package (built into ./.venv with `pip install .`, then pytest
# and the Jupyter notebooks, executed top to bottom). Needs the Rust
# toolchain and python3; installs the rest (PyPI) into ./.venv.
set -euo pipefail
cd "$(dirname "$0")"

echo "== cargo test --release --workspace"
cargo test --release --workspace

echo "== CLI walkthroughs (notebooks/*.md)"
bash notebooks/run.sh

echo "== Python package: pip install . into .venv"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# The package is built with cargo's release profile, so that it reuses
# every dependency `cargo test --release --workspace` above compiled (the
# workspace's feature resolution is the Python crate's; see getrandom in
# python/Cargo.toml) instead of the wheel profile's fat-LTO build of
# everything (8-13 minutes of CI on 2 cores): 91 s in a fresh-clone CI.
# The numbers are the same bits either way. A plain `pip install .` builds
# the faster `wheel` profile (pyproject.toml).
MATURIN_PEP517_ARGS="--profile release" \
  .venv/bin/python -m pip install --quiet ".[test]" -r notebooks/requirements.txt

echo "== pytest python/tests"
# The CLI the Python results are compared with: the release binary above.
SYNTHMARKET_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/synthmarket" \
  .venv/bin/python -m pytest -q python/tests

echo "== Jupyter notebooks (notebooks/*.ipynb, top to bottom)"
.venv/bin/python notebooks/run_notebooks.py
