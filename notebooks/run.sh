#!/usr/bin/env bash
# Runs every walkthrough in notebooks/*.md: the ```bash blocks of each file,
# in order, in a fresh temporary directory, with the release binary on PATH
# and $REPO pointing at the repository (for data/). Fails on the first error.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# --workspace: the feature resolution of test.sh's `cargo test --release
# --workspace` (and of the Python crate's build), so after it this builds
# nothing; a root-only build would rebuild most dependencies (4-7 minutes
# of CI on 2 cores). --bins: the CLI only, not the Python module.
cargo build --release --quiet --workspace --bins --manifest-path "$repo/Cargo.toml"
export PATH="${CARGO_TARGET_DIR:-$repo/target}/release:$PATH" REPO="$repo"
for nb in "$repo"/notebooks/*.md; do
  work="$(mktemp -d)"
  script="$work/.walkthrough.sh"
  awk '/^```bash$/{on=1; next} /^```$/{on=0} on' "$nb" > "$script"
  echo "-- $(basename "$nb") ($(grep -c '' "$script") lines)"
  (cd "$work" && bash -euo pipefail "$script")
  rm -rf "$work"
done
echo "notebooks: all walkthroughs ran"
