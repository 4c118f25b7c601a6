#!/usr/bin/env bash
# install-deps.sh: installs the Debian packages darknet-legr needs, once.
#
# Idempotent: packages already present are not touched, and apt is only run
# when something is missing.  Uses sudo when not root.  If the machine has no
# deb-src entry (needed by `apt-get source darknet`), one is derived from the
# machine's own apt configuration: same URIs, suites and components, nothing
# else.
set -eu

PKGS="build-essential dpkg-dev pkg-config libopencv-dev libdnnl-dev libopenblas-dev zlib1g-dev
libcmocka-dev liblapacke-dev libjansson-dev jq darknet dataset-fashion-mnist gnuplot-nox libopenmpi-dev openmpi-bin time"
# Optional: clang with its sanitizer and libFuzzer runtimes, for `make fuzz`
# and `make test SANITIZE=1` only (the Makefile sets LEGR_WITH_CLANG=1 there).
CLANG_PKGS="clang libclang-rt-dev"
if [ "${LEGR_WITH_CLANG:-0}" = 1 ]; then PKGS="$PKGS $CLANG_PKGS"; fi
# Extra packages can be requested by the caller.
PKGS="$PKGS ${LEGR_EXTRA_PKGS:-}"

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done

have_deb_src() {
    grep -rqsE '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' \
        /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}

# Writes a deb-src twin of every enabled "deb" entry found in the machine's
# apt configuration (one-line and deb822 formats).
add_deb_src() {
    out=/etc/apt/sources.list.d/darknet-legr-src.sources
    tmp=$(mktemp)
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        # deb822 stanzas: copy those whose Types include "deb", as deb-src.
        awk 'BEGIN{RS=""; ORS="\n\n"}
             /(^|\n)Types:[^\n]*deb([ \n]|$)/ {
                 gsub(/Types:[^\n]*/, "Types: deb-src"); print }' "$f" >> "$tmp"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        # one-line format: "deb [opts] URI suite comps" -> deb822 stanza.
        sed -n 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\)[[:space:]]\+\([^[:space:]]\+\)[[:space:]]\+\(.*\)$/Types: deb-src\nURIs: \2\nSuites: \3\nComponents: \4\n/p' "$f" >> "$tmp"
    done
    if [ ! -s "$tmp" ]; then
        echo "install-deps: no 'deb' entry found in the apt configuration to derive a deb-src entry from" >&2
        rm -f "$tmp"; return 1
    fi
    $SUDO install -m 644 "$tmp" "$out"
    rm -f "$tmp"
    echo "install-deps: added deb-src entries in $out (derived from existing apt sources)"
}

need_update=""
if [ "${LEGR_NEED_SOURCE:-0}" = 1 ] && ! have_deb_src; then
    add_deb_src
    need_update=1
fi
if [ -n "$missing" ]; then need_update=1; fi

if [ -n "$need_update" ]; then
    echo "install-deps: apt-get update"
    $SUDO apt-get update -qq
fi
if [ -n "$missing" ]; then
    echo "install-deps: installing$missing"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi
