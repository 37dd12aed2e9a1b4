# syntax=docker/dockerfile:1
# Jarvis as a static binary on distroless: no shell, no package manager, a non-root user, CA
# certificates and time zones. Build: docker build -t jarvis .
# The Go version follows go.mod; GOTOOLCHAIN lets the image fetch a newer patch release if
# go.mod asks for one.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=auto
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=""
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags "-s -w ${VERSION:+-X github.com/aidawg/jarvis/app.Version=$VERSION}" \
        -o /out/jarvis ./cmd/jarvis \
    && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/jarvis /usr/local/bin/jarvis
# An empty data directory owned by the nonroot user: a named volume mounted on it starts with
# that owner.
COPY --from=build --chown=65532:65532 /out/data /data
ENV JARVIS_ENV=production \
    JARVIS_ADDR=0.0.0.0:4000 \
    JARVIS_DATA_DIR=/data
USER 65532:65532
VOLUME ["/data"]
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/jarvis", "health", "--timeout", "4s"]
ENTRYPOINT ["/usr/local/bin/jarvis"]
CMD ["serve"]
