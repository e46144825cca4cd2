# syntax=docker/dockerfile:1
# Build stage: every dependency (TypeScript), the sources compiled to dist/ by `npm run build`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only: no tsx, no TypeScript.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# Runtime stage: compiled JavaScript + production node_modules, a non-root user, data on a volume.
# test/smoke/dist-start.test.ts assembles the same folder and runs the same CMD.
FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=8388 DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY --from=build /app/dist ./dist
COPY drizzle ./drizzle
COPY workflows ./workflows
COPY public ./public
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8388
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM reaches node directly (no npm in between), so shutdown is graceful.
# Migrations: docker compose run --rm gateway node dist/server/migrate-cli.js
# Keys: docker compose run --rm gateway node dist/server/keys-cli.js create --frontend style
CMD ["node", "dist/index.js"]
