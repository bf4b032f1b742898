# syntax=docker/dockerfile:1
# knack311 — the service image. Build: docker build -t knack311 .
# Run:  docker run --env-file .env -p 3000:3000 \
#         -v /secure/knack311-certs:/app/certs:ro -v knack311-data:/app/data knack311
# config/apps is baked in; mount over it (-v ./apps:/app/config/apps:ro) or set APPS_DIR to change it.

# ---- build: compile TypeScript to dist/ ----
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: compiling needs no native module, and `prepare` would build before src/ is here.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/copy-assets.mjs ./scripts/copy-assets.mjs
RUN npm run build

# ---- deps: production dependencies only, native ones built for this image ----
FROM node:22-slim AS deps
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary fits the platform.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# --ignore-scripts skips `prepare` (tsc is a devDependency); the packages that need their install
# scripts get them through npm rebuild.
RUN npm ci --omit=dev --ignore-scripts \
  && npm rebuild better-sqlite3 esbuild \
  && npm cache clean --force

# ---- runtime ----
FROM node:22-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json openapi.yaml ./
COPY bin ./bin
COPY config ./config
# Mount points owned by the unprivileged user: the certificates (read-only is fine) and the SQLite ledger.
RUN mkdir -p /app/certs /app/data && chown node:node /app/certs /app/data
USER node
VOLUME ["/app/certs", "/app/data"]
EXPOSE 3000
# slim images have no curl: Node's fetch does the check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The V8 flags of bin/knack311.js's first line (why there); test/deploy/node-flags.test.ts checks they match.
CMD ["node", "--max-semi-space-size=2", "--max-old-space-size=256", "--no-allocation-site-pretenuring", "bin/knack311.js", "serve"]
