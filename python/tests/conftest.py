"""Shared fixtures: the repository root and the CLI binary the Python
results are compared with (built by `cargo build --release`; the test driver
`test.sh` builds it first, or set SYNTHMARKET_BIN)."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def cli() -> Path:
    path = Path(os.environ.get("SYNTHMARKET_BIN", ROOT / "target" / "release" / "synthmarket"))
    if not path.exists():
        pytest.fail(f"the CLI binary {path} is missing: run `cargo build --release` (test.sh does) or set SYNTHMARKET_BIN")
    return path


@pytest.fixture(scope="session")
def run_cli(cli):
    def run(*args, check=True):
        return subprocess.run([str(cli), "--quiet", *map(str, args)], capture_output=True, text=True, check=check)

    return run
