# syntax=docker/dockerfile:1

# Tacit container image.
#
#   docker build -t tacit .
#   docker run -p 8080:8080 -v tacit-data:/data \
#     -e TACIT_HOST=social.example.com tacit
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
# Pure-Go build (the SQLite driver needs no cgo), so the binary is static and
# runs on distroless/static.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /out/tacit ./cmd/tacit

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

# No HEALTHCHECK: distroless has no shell or curl to run one. Tacit serves
# GET /health on the listen port; point the orchestrator's HTTP probe at it
# (e.g. a Kubernetes livenessProbe/readinessProbe with httpGet path /health).

ENTRYPOINT ["/tacit"]
CMD ["serve"]
