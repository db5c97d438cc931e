#!/usr/bin/env bash
# Refreshes the README's pictures from a fresh demo run (shipped defaults).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
cargo run --release -q -- demo -q --out "$out/demo" >/dev/null
cp "$out/demo/deep/report/paths_fan.svg" docs/img/deep_paths_fan.svg
cp "$out/demo/deep/report/smile.svg" docs/img/deep_smile.svg
cp "$out/demo/deep/report/acf.svg" docs/img/deep_acf.svg
cp "$out/demo/deep/hedge/pnl.svg" docs/img/deep_hedge_pnl.svg
cp "$out/demo/from-2008/fan.svg" docs/img/deep_from_2008.svg
rm -rf "$out"
echo "docs/img refreshed"
