# ParkGraph tasks. `just` lists them.

pg_url := env_var_or_default("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")

default:
    @just --list

# Start the server on the embedded SQLite default (loads the Wuhan sample when empty).
serve:
    cargo run -- serve

# Format the code.
fmt:
    cargo fmt --all

# Formatting, clippy with warnings as errors, and the domain crate's dependency rule.
lint: deps
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# The domain crate must not depend on an ORM, GraphQL or HTTP crate; the registry service
# (use-cases) not on a GraphQL or HTTP crate; the API not directly on the ORM or a SQL
# driver, nor name them through a re-export (it reads through persistence's `Store`).
deps:
    #!/usr/bin/env bash
    set -euo pipefail
    found=$(cargo tree -p parkgraph-domain -e normal --prefix none | grep -E '^(sea-orm|sea-query|sqlx|async-graphql|axum|hyper|tower|tokio) ' || true)
    if [ -n "$found" ]; then echo "parkgraph-domain depends on: $found" >&2; exit 1; fi
    echo "domain dependency rule holds"
    found=$(cargo tree -p parkgraph-registry -e normal --prefix none | grep -E '^(async-graphql|axum|hyper|tower) ' || true)
    if [ -n "$found" ]; then echo "parkgraph-registry depends on: $found" >&2; exit 1; fi
    echo "registry dependency rule holds"
    found=$(cargo tree -p parkgraph-api -e normal --depth 1 --prefix none | grep -E '^(sea-orm|sea-query|sqlx) ' || true)
    if [ -n "$found" ]; then echo "parkgraph-api depends directly on: $found" >&2; exit 1; fi
    found=$(grep -rlwE 'sea_orm|sea_query|sqlx' crates/api/src || true)
    if [ -n "$found" ]; then echo "parkgraph-api names the ORM in: $found" >&2; exit 1; fi
    echo "api dependency rule holds"

# The whole suite on SQLite (each test on its own fresh database): the README's command.
test:
    cargo test

# The whole suite on PostgreSQL (each test creates, and this recipe drops, its own database).
test-pg:
    #!/usr/bin/env bash
    set -euo pipefail
    status=0
    TEST_DATABASE_URL="{{pg_url}}" cargo test --no-fail-fast || status=$?
    psql "{{pg_url}}" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'parkgraph_test_%'" \
      | while read -r db; do psql -q "{{pg_url}}" -c "DROP DATABASE IF EXISTS \"$db\"" >/dev/null; done
    exit $status

# Regenerate schema.graphql from the API's types.
sdl:
    cargo run -q -- schema > schema.graphql

# Fail when schema.graphql differs from the generated SDL.
sdl-check:
    cargo test --test sdl

# Load 100k synthetic enterprises (timing the seed) and measure the HTTP server on SQLite
# and PostgreSQL: queries and token overhead, the same queries against PostGraphile on
# PostgreSQL (see bench-peer), then mutations by concurrent editors and the change feed's
# read rate (HTTP and the CLI), bulk rates, and search (index build, query latency
# against naive SQL).
bench enterprises="100000" seconds="10" concurrency="32":
    cargo build --release -p parkgraph -p parkgraph-bench
    target/release/parkgraph-bench --enterprises {{enterprises}} --seconds {{seconds}} --concurrency {{concurrency}} --pg-url "{{pg_url}}"

# Only the bulk suite of `just bench`: import, export and snapshot rates.
bench-bulk enterprises="100000":
    cargo build --release -p parkgraph -p parkgraph-bench
    target/release/parkgraph-bench --suites bulk --enterprises {{enterprises}} --pg-url "{{pg_url}}"

# The server's memory while it streams a snapshot of every organization (1,000,000 by default).
bench-snapshot enterprises="1000000" backends="postgres":
    cargo build --release -p parkgraph -p parkgraph-bench
    target/release/parkgraph-bench --suites snapshot --enterprises {{enterprises}} --backends {{backends}} --pg-url "{{pg_url}}"

# Only the search suite of `just bench`, on 1,000,000 enterprises by default: the index's
# build rate and memory, then Chinese, pinyin, English, type-ahead and faceted queries over
# HTTP against the same questions as naive SQL (LIKE and GROUP BY) on the same database.
# The bench runs the parkgraph binary of its own target directory (CARGO_TARGET_DIR works).
bench-search enterprises="1000000" backends="sqlite,postgres":
    cargo build --release -p parkgraph -p parkgraph-bench
    cargo run --release -q -p parkgraph-bench -- --suites search --enterprises {{enterprises}} --backends {{backends}} --pg-url "{{pg_url}}"

# Only the peer suite of `just bench`: the three read queries against PostGraphile 4.14.1
# (2 cluster workers, simplify-inflector and connection-filter, installed with npm into a
# temporary directory) on the same PostgreSQL database, checked for the same rows, then
# throughput, p99, CPU per request (server and PostgreSQL) and memory side by side.
# Without node and npm it measures ParkGraph alone.
bench-peer enterprises="100000" seconds="10" concurrency="32":
    cargo build --release -p parkgraph -p parkgraph-bench
    cargo run --release -q -p parkgraph-bench -- --suites peer --backends postgres --enterprises {{enterprises}} --seconds {{seconds}} --concurrency {{concurrency}} --pg-url "{{pg_url}}"

# Many clients at once on each backend (256 for 60 s by default), a mix of the three read
# queries: requests, errors (each distinct one printed), p50/p99, the server's CPU per
# request beside PostgreSQL's, and the server's peak memory.
bench-load enterprises="100000" clients="256" seconds="60" backends="sqlite,postgres":
    cargo build --release -p parkgraph -p parkgraph-bench
    cargo run --release -q -p parkgraph-bench -- --suites load --backends {{backends}} --enterprises {{enterprises}} --load-clients {{clients}} --load-seconds {{seconds}} --pg-url "{{pg_url}}"

# Only the write suite of `just bench`: mutations under concurrent writers, and the feed.
bench-write enterprises="100000" seconds="10" concurrency="32":
    cargo build --release -p parkgraph -p parkgraph-bench
    target/release/parkgraph-bench --suites write --enterprises {{enterprises}} --seconds {{seconds}} --concurrency {{concurrency}} --pg-url "{{pg_url}}"

# Everything CI runs.
ci: lint test test-pg sdl-check
