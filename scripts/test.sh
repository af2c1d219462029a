#!/usr/bin/env bash
# The test command README.md names: unit, property and integration tests of the
# whole workspace (integration tests start the real keel-server binary).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace "$@"
