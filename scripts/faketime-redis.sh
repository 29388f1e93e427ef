#!/usr/bin/env bash
# The fault suite's clock scenarios run redis-server under libfaketime, to move a node's clock.
# Debian's redis-server is linked with jemalloc, which libfaketime cannot load into ("Unexpected
# recursive calls to clock_gettime()"), so this builds redis-server with `make MALLOC=libc` from
# the source that Debian ships for the installed version (`apt-get source redis`, about a
# minute on 2 cores), once, and caches it. It installs faketime and adds a deb-src entry
# (copied from the machine's own apt sources) when they are missing.
#
# Prints two lines, `REDIS_SERVER=<path>` and `LIBFAKETIME=<path>`, and exits 0; or says what
# is missing on stderr and exits 1. Set NESTJS_REDLOCK_CACHE to cache elsewhere than
# ~/.cache/nestjs-redlock.
set -euo pipefail

fail() {
  echo "faketime-redis: $*" >&2
  exit 1
}

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
can_install() { command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; }; }
export DEBIAN_FRONTEND=noninteractive

find_libfaketime() {
  ls /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1 2>/dev/null | head -n 1
}
LIBFAKETIME="$(find_libfaketime || true)"
if [ -z "$LIBFAKETIME" ]; then
  can_install || fail "libfaketime is missing: install the faketime package (apt-get install faketime)"
  echo "faketime-redis: installing faketime" >&2
  $SUDO apt-get update -qq >&2
  $SUDO apt-get install -y -qq --no-install-recommends faketime >&2
  LIBFAKETIME="$(find_libfaketime || true)"
  [ -n "$LIBFAKETIME" ] || fail "the faketime package installed no libfaketime.so.1"
fi

command -v redis-server >/dev/null 2>&1 || fail "redis-server is missing (scripts/ensure-redis.sh installs it)"
VERSION="$(redis-server --version | sed -n 's/.* v=\([0-9.]*\).*/\1/p')"
[ -n "$VERSION" ] || fail "cannot read the version of redis-server"
CACHE="${NESTJS_REDLOCK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nestjs-redlock}/redis-$VERSION-libc"
BINARY="$CACHE/redis-server"

if [ ! -x "$BINARY" ]; then
  command -v apt-get >/dev/null 2>&1 || fail "no cached $BINARY, and no apt-get to fetch Debian's redis source"
  for tool in make cc tar; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      can_install || fail "$tool is missing: install build-essential"
      $SUDO apt-get install -y -qq --no-install-recommends build-essential >&2
      break
    fi
  done
  WORK="$(mktemp -d)"
  trap 'rm -rf "$WORK"' EXIT
  cd "$WORK"
  if ! apt-get source --download-only -qq redis >&2 2>/dev/null; then
    # No deb-src entry: add one that mirrors the machine's own binary sources.
    can_install || fail "apt-get source redis needs a deb-src entry in the apt sources"
    echo "faketime-redis: adding deb-src entries for apt-get source" >&2
    for file in /etc/apt/sources.list.d/*.sources; do
      [ -e "$file" ] || continue
      grep -q '^Types:.*deb-src' "$file" && continue
      sed 's/^Types: deb$/Types: deb-src/' "$file" |
        $SUDO tee "/etc/apt/sources.list.d/nestjs-redlock-src-$(basename "$file")" >/dev/null
    done
    if [ -f /etc/apt/sources.list ]; then
      sed -n 's/^deb /deb-src /p' /etc/apt/sources.list |
        $SUDO tee /etc/apt/sources.list.d/nestjs-redlock-src.list >/dev/null
    fi
    $SUDO apt-get update -qq >&2 || echo "faketime-redis: apt-get update reported errors; trying apt-get source all the same" >&2
    apt-get source --download-only -qq redis >&2 || fail "apt-get source redis failed"
  fi
  ORIG="$(ls redis_*.orig.tar.* | head -n 1)"
  [ -n "$ORIG" ] || fail "apt-get source redis brought no source tarball"
  mkdir src
  tar -xf "$ORIG" -C src --strip-components=1
  echo "faketime-redis: building redis-server $VERSION with MALLOC=libc (about a minute)" >&2
  make -C src -j"$(nproc)" MALLOC=libc BUILD_TLS=no >build.log 2>&1 ||
    { tail -n 30 build.log >&2; fail "the redis build failed"; }
  mkdir -p "$CACHE"
  cp src/src/redis-server "$BINARY.tmp"
  mv "$BINARY.tmp" "$BINARY"
fi

echo "REDIS_SERVER=$BINARY"
echo "LIBFAKETIME=$LIBFAKETIME"
