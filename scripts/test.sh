#!/usr/bin/env bash
# npm test: the test suite, against real redis-server processes that it starts itself. On a
# fresh machine it first installs what it needs (redis-server through apt-get where it can, the
# npm dependencies). Arguments go to jest: npm test -- test/core/fencing.spec.ts
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-redis.sh
source scripts/ensure-node-modules.sh
# ES module mode: Nest 12 ships as ES modules only.
NODE_OPTIONS=--experimental-vm-modules exec node_modules/.bin/jest "$@"
