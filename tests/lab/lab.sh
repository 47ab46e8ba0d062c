#!/usr/bin/env bash
# `npm run lab`: start the test lab (tests/lab/lab-cli.ts) with the repository's own bun.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
exec "$root/node_modules/.bin/bun" tests/lab/lab-cli.ts "$@"
