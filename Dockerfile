# Kasper for Node.js: `kasper run --config /etc/kasper/kasper.yaml` as a non-root user.
# Build: docker build -t kasper-node:0.1.0 .   (users add their processor module: see docs/deployment.md)

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY workers ./workers
RUN npm run build

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
COPY examples ./examples
# The base image's unprivileged user (uid 1000); the Helm chart runs it with a read-only root filesystem.
USER node
EXPOSE 9464
STOPSIGNAL SIGTERM
# Node is PID 1 and handles SIGTERM itself: workers finish their batch, produce and commit, then exit.
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["run", "--config", "/etc/kasper/kasper.yaml"]
