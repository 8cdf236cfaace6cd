#!/usr/bin/env bash
# Debian packages the build and tests need, installed with apt-get only when missing.
#   system-deps.sh chromium   Debian's chromium at /usr/bin/chromium (browser tests)
#   system-deps.sh compiler   a C/C++ compiler (llama-cpp-python compiles from source)
#   system-deps.sh venv       python3-venv (a bare Debian python cannot create venvs without it)
# As root they are installed; otherwise the script says what to run and carries on.
set -euo pipefail

APT_UPDATED=0
apt_install() {  # apt_install WHY PACKAGE...
    local why=$1; shift
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        echo "==> WARNING: $why is missing and this is not a root Debian shell."
        echo "    Install it with: sudo apt-get update && sudo apt-get install -y $*"
        return 1
    fi
    if [ "$APT_UPDATED" -eq 0 ]; then
        echo "==> apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
    echo "==> apt-get install $* ($why)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

for what in "$@"; do
    case "$what" in
        chromium)
            if [ -x /usr/bin/chromium ]; then
                echo "==> chromium found at /usr/bin/chromium"
            else
                apt_install "Debian chromium (browser tests)" chromium \
                    || echo "    Browser tests will be skipped until /usr/bin/chromium exists."
            fi
            ;;
        compiler)
            if command -v cc >/dev/null && command -v c++ >/dev/null; then
                :
            else
                apt_install "a C/C++ compiler (to build llama-cpp-python)" build-essential
            fi
            ;;
        venv)
            apt_install "python3-venv (to create .venv)" python3-venv
            ;;
        *)
            echo "system-deps.sh: unknown item '$what'" >&2
            exit 2
            ;;
    esac
done
