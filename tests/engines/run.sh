#!/usr/bin/env bash
# The engine comparison of `audience sql` (tests/engines/README.md): installs
# what is missing, builds audience, then runs compare.py on the engines named
# (default: duckdb postgres; also clickhouse, spark, dbt). Fails, saying why,
# when an engine cannot be installed or started: nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/audience-target}"
if [ "$#" -eq 0 ]; then set -- duckdb postgres; fi
need_py() { python3 -c "import $1" 2>/dev/null || python3 -m pip install --quiet "$2"; }
apt_updated=""
need_apt() {
    [ -n "$apt_updated" ] || { apt-get update -qq; apt_updated=1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
need_py duckdb duckdb   # every engine's relations are read with it
for engine in "$@"; do
    case "$engine" in
        duckdb) ;;
        postgres)
            if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
                need_apt postgresql postgresql-contrib
            fi
            ;;
        clickhouse) need_py chdb chdb ;;
        spark)
            need_py pyspark pyspark
            command -v java >/dev/null || need_apt openjdk-17-jre-headless
            ;;
        --*) ;;  # options of compare.py, such as --stage-only
        dbt) command -v dbt >/dev/null || python3 -m pip install --quiet "dbt-core>=1.10,<1.11" "dbt-duckdb>=1.9,<1.11" ;;
        *)
            echo "engines: unknown engine $engine (duckdb, postgres, clickhouse, spark, dbt)" >&2
            exit 2
            ;;
    esac
done
cargo build --quiet --bin audience
python3 tests/engines/compare.py --audience "$CARGO_TARGET_DIR/debug/audience" "$@"
