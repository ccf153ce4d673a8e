# Production image for scorecard: a release build on Debian bookworm, run from bookworm-slim.
#   docker build -t scorecard .
#   docker run -p 3000:3000 -v scorecard-data:/data scorecard
#   docker run --rm scorecard --help

# ---- builder -----------------------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /build

# 1. Dependencies only: build against stub sources so this layer is cached until
#    Cargo.toml, Cargo.lock or build.rs change. (SQLite is compiled from C here by
#    libsqlite3-sys; the rust image already has gcc.)
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && cargo build --release --locked \
 && rm -rf src

# 2. The real crate. Templates, static files, migrations and the price catalog are
#    embedded at compile time, so they are needed here and not at run time.
COPY src ./src
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
COPY catalog ./catalog
# COPY keeps the files' own mtimes, which may be older than the stub build: drop the
# crate's fingerprints so cargo rebuilds it from the real sources.
RUN rm -rf target/release/.fingerprint/scorecard-* \
 && cargo build --release --locked \
 && install -Dm755 target/release/scorecard /out/scorecard

# ---- runtime -----------------------------------------------------------------
FROM debian:bookworm-slim

# No ca-certificates: the app makes no outbound HTTPS calls.
RUN groupadd --system --gid 10001 scorecard \
 && useradd --system --uid 10001 --gid scorecard --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin scorecard \
 && mkdir -p /data \
 && chown scorecard:scorecard /data

COPY --from=builder /out/scorecard /usr/local/bin/scorecard

ENV SCORECARD_BIND=0.0.0.0:3000 \
    SCORECARD_DATA_DIR=/data

USER scorecard:scorecard
WORKDIR /data
VOLUME /data
EXPOSE 3000

# `scorecard healthcheck` GETs /healthz on the bind port (127.0.0.1 when bound to 0.0.0.0).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["scorecard", "healthcheck"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["scorecard"]
CMD ["serve"]
