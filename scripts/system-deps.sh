#!/usr/bin/env bash
# Debian packages the build and tests need, installed with apt-get only when missing.
#   system-deps.sh chromium   Debian's chromium at /usr/bin/chromium (browser tests)
#   system-deps.sh compiler   a C/C++ compiler (llama-cpp-python compiles from source)
#   system-deps.sh venv       python3-venv (a bare Debian python cannot create venvs without it)
# As root they are installed; otherwise the script says what to run. The compiler and python3-venv are
# needed to go on at all: without them it exits 1. Without Chromium a local run carries on (the browser
# tests skip); under CI (CI set, and not 0/false/no) it exits 1, because CI must run every test and a
# skipped browser test fails the run anyway (tests/ci_skips.py).
# CHROMIUM_PATH overrides where Chromium is expected, for this script's own test only
# (tests/scripts/test_system_deps.py); the browser tests always look at /usr/bin/chromium.
set -euo pipefail

CHROMIUM=${CHROMIUM_PATH:-/usr/bin/chromium}
case "${CI:-}" in
    ""|0|false|FALSE|False|no|NO|No) ON_CI=0 ;;
    *) ON_CI=1 ;;
esac

APT_UPDATED=0
apt_install() {  # apt_install WHY PACKAGE...: 0 when apt-get installed them, 1 (with the reason) otherwise
    local why=$1; shift
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        echo "==> $why is missing and this is not a root Debian shell."
        echo "    Install it with: sudo apt-get update && sudo apt-get install -y $*"
        return 1
    fi
    if [ "$APT_UPDATED" -eq 0 ]; then
        echo "==> apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq || { echo "==> apt-get update failed"; return 1; }
        APT_UPDATED=1
    fi
    echo "==> apt-get install $* ($why)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" || { echo "==> apt-get install $* failed"; return 1; }
}

fail() {  # fail MESSAGE: stop the build with a one-line reason
    echo "error: $1" >&2
    exit 1
}

for what in "$@"; do
    case "$what" in
        chromium)
            if [ -x "$CHROMIUM" ]; then
                echo "==> chromium found at $CHROMIUM"
                continue
            fi
            if apt_install "Debian chromium (browser tests)" chromium; then
                [ -x "$CHROMIUM" ] && continue
                echo "==> the chromium package is installed, but $CHROMIUM does not exist."
            fi
            if [ "$ON_CI" -eq 1 ]; then
                fail "cannot install Chromium at $CHROMIUM, and CI must run the browser tests (CI=$CI)."
            fi
            echo "==> WARNING: browser tests will be skipped until $CHROMIUM exists."
            ;;
        compiler)
            if ! { command -v cc >/dev/null && command -v c++ >/dev/null; }; then
                apt_install "a C/C++ compiler (to build llama-cpp-python)" build-essential \
                    || fail "no C/C++ compiler, and llama-cpp-python (the tests' LLM server) compiles from source."
            fi
            ;;
        venv)
            apt_install "python3-venv (to create .venv)" python3-venv \
                || fail "cannot install python3-venv, so .venv cannot be created."
            ;;
        *)
            echo "system-deps.sh: unknown item '$what'" >&2
            exit 2
            ;;
    esac
done
