#!/bin/sh
# Installs what bench/run.py needs on a fresh machine: GNU time (for peak RSS)
# and the DuckDB Python package. The Rust toolchain (cargo) and Python 3.10+
# are assumed to be there already.
set -eu

if ! /usr/bin/time -v true >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""
        [ "$(id -u)" -eq 0 ] || SUDO="sudo"
        $SUDO apt-get update
        $SUDO apt-get install -y time
    else
        echo "setup: install GNU time so that /usr/bin/time -v works (package 'time')" >&2
        exit 1
    fi
fi

python3 -c "import duckdb" 2>/dev/null || python3 -m pip install duckdb

command -v cargo >/dev/null 2>&1 || { echo "setup: cargo not found; install Rust (https://rustup.rs)" >&2; exit 1; }

python3 - <<'EOF'
import sys, duckdb
assert sys.version_info >= (3, 10), "bench/run.py needs Python 3.10 or later"
print(f"ok: python {sys.version.split()[0]}, duckdb {duckdb.__version__}, /usr/bin/time -v")
EOF
