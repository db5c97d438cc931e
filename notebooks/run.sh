#!/usr/bin/env bash
# Runs every walkthrough in notebooks/*.md: the ```bash blocks of each file,
# in order, in a fresh temporary directory, with the release binary on PATH
# and $REPO pointing at the repository (for data/). Fails on the first error.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
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
