# The makerpulse server: built in a Rust image, run in a slim Debian one. The binary embeds the
# web pages, so it is the whole deployment. Base images are pinned to exact versions, so a
# rebuild next month builds the same thing; raise them on purpose.
FROM rust:1.88.0-bookworm AS build
WORKDIR /src

# The dependencies, in a layer of their own: it is rebuilt only when a manifest or the lock
# changes, not at every change of our code. Every target of the workspace gets an empty stub so
# that cargo can load the workspace and build everything the server depends on. The stubs' own
# builds are then forgotten: cargo compares modification times, and the real sources copied next
# may be older than the stubs' artifacts.
COPY Cargo.toml Cargo.lock ./
COPY crates/core/Cargo.toml crates/core/
COPY crates/client/Cargo.toml crates/client/
COPY crates/server/Cargo.toml crates/server/
COPY crates/loadgen/Cargo.toml crates/loadgen/
COPY tests/Cargo.toml tests/
RUN for dir in crates/core crates/client crates/server crates/loadgen tests; do \
        mkdir -p "$dir/src" && touch "$dir/src/lib.rs"; \
    done \
    && mkdir -p crates/core/benches crates/loadgen/src/bin \
    && for main in crates/server/src/main.rs crates/loadgen/src/main.rs \
        crates/loadgen/src/bin/ceiling.rs crates/core/benches/projection.rs; do \
        echo 'fn main() {}' > "$main"; \
    done \
    && cargo build --release --locked -p makerpulse-server \
    && rm -rf target/release/.fingerprint/makerpulse-* target/release/deps/*makerpulse*

COPY . .
RUN cargo build --release --locked -p makerpulse-server \
    && cp target/release/makerpulse /makerpulse

FROM debian:12.11-slim
RUN useradd --system --home-dir /data --create-home makerpulse
COPY --from=build /makerpulse /usr/local/bin/makerpulse
USER makerpulse
ENV MAKERPULSE_BIND=0.0.0.0:8080 \
    MAKERPULSE_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
# Healthy when /readyz says ready (every challenge can write its log, not shutting down), asked
# at MAKERPULSE_BIND by the binary itself: the slim image has no curl, and its /bin/sh is dash.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["makerpulse", "healthcheck", "--timeout", "3"]
ENTRYPOINT ["makerpulse"]
CMD ["serve"]
