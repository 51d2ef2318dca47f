#!/usr/bin/env bash
# The installed program: `cmake --install` into a temporary prefix, the .deb of `cpack -G DEB`
# (contents, Depends, unpacked with dpkg -x), the man page against --help, and the systemd unit
# through systemd-analyze verify. Usage: package_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)

work=$(mktemp -d "$build/package-test.XXXXXX")
node_pid=
cleanup() {
  if [ -n "$node_pid" ]; then
    kill -9 "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "package_test: $*" >&2
  exit 1
}
step() {
  echo "== $*"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The version line of `binary`: release, then the revision found at build time.
check_version() {
  local binary=$1 out
  out=$("$binary" --version)
  echo "$out"
  [[ $out =~ ^watercooler\ [0-9]+\.[0-9]+\.[0-9]+\ \(git\ ([0-9a-f]{12}(-dirty)?|unknown)\)$ ]] ||
    fail "$binary --version printed '$out'"
  if git -C "$source_dir" rev-parse --show-toplevel >/dev/null 2>&1 &&
    [ "$(cd "$(git -C "$source_dir" rev-parse --show-toplevel)" && pwd -P)" = "$(cd "$source_dir" && pwd -P)" ]; then
    [[ $out != *"(git unknown)" ]] || fail "built from a git checkout, but --version says unknown"
  fi
}

# Every --flag that --help names appears in the rendered man page.
check_man_page() {
  local binary=$1 page=$2 rendered flag missing=()
  if command -v man >/dev/null; then
    rendered=$(MANWIDTH=200 LC_ALL=C man -l "$page" 2>&1) || fail "man -l $page: $rendered"
  else
    rendered=$(groff -man -Tascii -rLL=200n "$page" | col -b)
  fi
  grep -q "^NAME" <<<"$rendered" || fail "the man page has no NAME section"
  for flag in $("$binary" --help | grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u); do
    grep -q -F -e "$flag" <<<"$rendered" || missing+=("$flag")
  done
  [ ${#missing[@]} -eq 0 ] || fail "the man page does not name ${missing[*]}"
  echo "man page names all $("$binary" --help | grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u | wc -l) flags of --help"
}

# A node of `binary` serves the page on free ports, then stops on SIGTERM with exit code 0.
check_serves_page() {
  local binary=$1 port secure page status
  port=$(free_port)
  secure=$(free_port)
  "$binary" --port "$port" --secure-port "$secure" --state-dir "$work/state" \
    >"$work/node.log" 2>&1 &
  node_pid=$!
  for _ in $(seq 100); do
    page=$(curl -sf "http://127.0.0.1:$port/" 2>/dev/null) && break
    kill -0 "$node_pid" 2>/dev/null || fail "the node exited: $(cat "$work/node.log")"
    sleep 0.2
  done
  [[ $page == *"nonode@nohost"* ]] || fail "no page on port $port: $(cat "$work/node.log")"
  kill -TERM "$node_pid"
  status=0
  wait "$node_pid" || status=$?
  node_pid=
  [ "$status" -eq 0 ] || fail "the node exited $status on SIGTERM: $(cat "$work/node.log")"
  echo "served the page on port $port"
}

step "cmake --install into a temporary prefix"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || fail "$(cat "$work/install.log")"
for file in bin/watercooler share/man/man1/watercooler.1 share/doc/watercooler/README.md \
  share/doc/watercooler/examples/sys.config share/doc/watercooler/examples/node1.env \
  share/doc/watercooler/examples/nginx.conf lib/systemd/system/watercooler@.service; do
  [ -f "$prefix/$file" ] || fail "$file is not installed"
done
check_version "$prefix/bin/watercooler"
"$prefix/bin/watercooler" --help >/dev/null || fail "--help failed"
check_man_page "$prefix/bin/watercooler" "$prefix/share/man/man1/watercooler.1"
cmp -s "$prefix/share/man/man1/watercooler.1" <("$prefix/bin/watercooler" --man) ||
  fail "the installed man page is not the one the installed binary makes"
check_serves_page "$prefix/bin/watercooler"

step "systemd-analyze verify watercooler@node1.service"
mkdir "$work/units"
sed "s#/usr/bin/watercooler#$prefix/bin/watercooler#" \
  "$prefix/lib/systemd/system/watercooler@.service" >"$work/units/watercooler@.service"
verify=$(MANPATH="$prefix/share/man" systemd-analyze verify "$work/units/watercooler@node1.service" 2>&1) ||
  fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify says: $verify"
echo "verified"

step "cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$work/cpack" >"$work/cpack.log" 2>&1) || fail "$(cat "$work/cpack.log")"
deb=$(ls "$work"/cpack/watercooler_*.deb)
file "$deb" | grep -q "Debian binary package" || fail "$deb is no Debian package: $(file "$deb")"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for library in libc6 libstdc++6 libssl3 libnghttp2-14 libcaf-core libcaf-io libcaf-openssl libcpp-httplib; do
  [[ $depends == *"$library"* ]] || fail "Depends lacks $library: $depends"
done
contents=$(dpkg-deb -c "$deb")
for file in ./usr/bin/watercooler ./usr/share/man/man1/watercooler.1 \
  ./usr/share/doc/watercooler/README.md ./usr/share/doc/watercooler/examples/nginx.conf \
  ./usr/share/doc/watercooler/examples/node1.env ./usr/share/doc/watercooler/examples/sys.config \
  ./usr/lib/systemd/system/watercooler@.service; do
  grep -q " $file\$" <<<"$contents" || fail "the package lacks $file"
done
if apt-get --version >/dev/null 2>&1; then
  # every Depends can be met from the configured archives (resolved, nothing installed)
  apt-get install --simulate --no-install-recommends "$deb" >"$work/apt.log" 2>&1 ||
    fail "apt cannot install it: $(cat "$work/apt.log")"
fi

step "dpkg -x, and the unpacked binary"
dpkg -x "$deb" "$work/unpacked"
unpacked=$work/unpacked/usr/bin/watercooler
[ "$("$unpacked" --version)" = "$("$prefix/bin/watercooler" --version)" ] ||
  fail "the package's --version differs from the build's"
check_version "$unpacked"
check_serves_page "$unpacked"
echo "package_test: ok"
