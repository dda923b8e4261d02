# syntax=docker/dockerfile:1

# Tacit container image.
#
#   docker build --build-arg REVISION=$(git rev-parse --short HEAD) -t tacit .
#   docker run -d --name tacit -p 8080:8080 -v tacit-data:/data \
#     -e TACIT_HOST=social.example.com tacit
#
# Admin commands run in the same container, with its configuration and volume, while
# the server runs (the image has no shell, so name the binary):
#
#   echo 'a long secret phrase' | docker exec -i tacit /tacit admin create-user \
#     --username alice --email alice@example.com --role admin --password-stdin
#   docker exec tacit /tacit admin token --username alice
#   docker exec tacit /tacit admin reindex
#   docker exec tacit /tacit health
#   docker exec tacit /tacit help
#
# Metrics: -e TACIT_METRICS_LISTEN=0.0.0.0:9090 -p 127.0.0.1:9090:9090 serves
# /metrics on a port of its own, published on the host's loopback only; add
# TACIT_METRICS_TOKEN for a bearer token. See docs/metrics.md.
#
# Configuration comes from TACIT_* environment variables (see package config)
# or a YAML file named by TACIT_CONFIG. All state (SQLite database, search
# index, media, keys) lives in the /data volume, owned by uid/gid 65532; when
# bind-mounting a host directory instead, chown it to 65532:65532 first.

# ---- build stage -------------------------------------------------------------
# Runs on the build machine's platform and cross-compiles for the target, so
# multi-platform builds (docker buildx --platform ...) need no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build

WORKDIR /src

# Download modules first so this layer is cached until go.mod/go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .

ARG TARGETOS
ARG TARGETARCH
# The source revision shown by `tacit version` and in the start line: .git stays out
# of the build context, so Go cannot stamp it itself.
ARG REVISION=
# Pure-Go build (the SQLite driver needs no cgo), so the binary is static and
# runs on distroless/static.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w -X main.revision=${REVISION}" -o /out/tacit ./cmd/tacit

# The data directory must be writable by the non-root runtime user (65532).
RUN mkdir -p /out/data && chown 65532:65532 /out/data && chmod 0750 /out/data

# ---- runtime stage -----------------------------------------------------------
# distroless/static: no shell, no package manager, CA certificates and tzdata
# included; the :nonroot tag runs as uid/gid 65532.
FROM gcr.io/distroless/static-debian12:nonroot

COPY --from=build /out/tacit /tacit
COPY --from=build --chown=65532:65532 /out/data /data

ENV TACIT_DATA_DIR=/data \
    TACIT_LISTEN=0.0.0.0:8080

VOLUME /data
EXPOSE 8080
USER nonroot:nonroot

# `tacit health` asks the server's GET /health (on 127.0.0.1 and the TACIT_LISTEN
# port) and exits 0 on 200, 1 otherwise: no shell or curl needed. The start period
# covers migrations and a first index build; Kubernetes can probe httpGet /health
# directly instead.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["/tacit", "health"]

ENTRYPOINT ["/tacit"]
CMD ["serve"]
