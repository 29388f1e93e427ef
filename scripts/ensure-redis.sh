# Sourced by .ci/run, scripts/test.sh and scripts/demo.sh: makes sure redis-server and redis-cli are on the PATH,
# installing them with apt-get (Debian, Ubuntu) when possible, and otherwise saying what to do.
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
      if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "redis-server is missing. As root, run: apt-get install -y redis-server redis-tools" >&2
        exit 1
      fi
    fi
    echo "::: installing redis-server (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends redis-server redis-tools >/dev/null
  else
    echo "redis-server is missing: install Redis 6.2 or later (redis-server and redis-cli on the PATH)," >&2
    echo "e.g. 'brew install redis' on macOS or 'dnf install redis' on Fedora, then run this again." >&2
    exit 1
  fi
fi
