#!/usr/bin/env bash
# The engine comparison of `audience sql` (tests/engines/README.md): installs
# what is missing (the duckdb Python package; Debian's PostgreSQL with its
# contrib extensions), builds audience, then runs compare.py on the engines
# named (default: duckdb postgres). Fails, saying why, when an engine cannot
# be installed or started: nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/audience-target}"
if [ "$#" -eq 0 ]; then set -- duckdb postgres; fi
for engine in "$@"; do
    case "$engine" in
        duckdb)
            python3 -c "import duckdb" 2>/dev/null || python3 -m pip install --quiet duckdb
            ;;
        postgres)
            if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! ls /usr/share/postgresql/*/extension/unaccent.control >/dev/null 2>&1; then
                apt-get update -qq
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib >/dev/null
            fi
            python3 -c "import duckdb" 2>/dev/null || python3 -m pip install --quiet duckdb   # loads the relations
            ;;
        *)
            echo "engines: unknown engine $engine (duckdb, postgres)" >&2
            exit 2
            ;;
    esac
done
cargo build --quiet --bin audience
python3 tests/engines/compare.py --audience "$CARGO_TARGET_DIR/debug/audience" "$@"
