#!/usr/bin/env bash
# npm run demo: on a fresh machine with Node.js 20+, installs what the demo needs (redis-server
# through apt-get where it can, the npm dependencies), builds the package and the sample app,
# then runs the scripted demonstration (sample-app/launch/demo.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-redis.sh
source scripts/ensure-node-modules.sh
echo "::: building the package and the sample app"
npm run --silent sample:build
node sample-app/dist/sample-app/launch/demo.js
