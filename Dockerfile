# The makerpulse server: built in a Rust image, run in a slim Debian one. The binary embeds the
# web pages, so it is the whole deployment.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p makerpulse-server \
    && cp target/release/makerpulse /makerpulse

FROM debian:bookworm-slim
RUN useradd --system --home-dir /data --create-home makerpulse
COPY --from=build /makerpulse /usr/local/bin/makerpulse
USER makerpulse
ENV MAKERPULSE_BIND=0.0.0.0:8080 \
    MAKERPULSE_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["makerpulse"]
CMD ["serve"]
