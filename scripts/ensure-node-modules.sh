# Sourced by scripts/test.sh and scripts/demo.sh: installs the npm dependencies on a fresh clone.
if [ ! -d node_modules ]; then
  echo "::: npm ci"
  npm ci --no-audit --no-fund
fi
