# Kasper for Node.js: `kasper run --config /etc/kasper/kasper.yaml` as a non-root user.
# Build: docker build --build-arg VERSION=0.1.0 -t kasper-node:0.1.0 .
# (users add their processor module: see docs/deployment.md)

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY workers ./workers
COPY scripts/bundle ./scripts/bundle
COPY vendor/platformatic-kafka.d.ts ./vendor/
RUN npm run build

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/vendor ./vendor
COPY config ./config
COPY examples ./examples
COPY templates ./templates
# The base image's unprivileged user node, numeric so that Kubernetes' runAsNonRoot can verify it without a
# runAsUser; the Helm chart runs it with a read-only root filesystem.
USER 1000:1000
EXPOSE 9464
STOPSIGNAL SIGTERM
# Last, so that another VERSION rebuilds no layer. Title, description and license as in package.json
# (test/packaging/image.sh checks them); VERSION is package.json's version.
ARG VERSION=unknown
LABEL org.opencontainers.image.title="kasper-node" \
      org.opencontainers.image.description="Kafka topic processing in small batches with Redis, Elasticsearch or in-memory state: Kasper for Node.js" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="kasper-node" \
      org.opencontainers.image.version="${VERSION}"
# Node is PID 1 and handles SIGTERM itself: workers finish their batch, produce and commit, then exit.
# --max-semi-space-size=1 keeps the main thread's young generation at 2 MB instead of 32 MB; the workers' is
# workers.resourceLimits.maxYoungGenerationSizeMb (docs/deployment.md, "Memory").
ENTRYPOINT ["node", "--max-semi-space-size=1", "/app/dist/src/cli/main.js"]
CMD ["run", "--config", "/etc/kasper/kasper.yaml"]
