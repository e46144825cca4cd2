# syntax=docker/dockerfile:1
# Build stage: exactly the locked runtime dependencies (tsx runs the TypeScript; no build step).
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# Runtime stage: sources + node_modules, a non-root user, data on a volume.
FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=8388 DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY drizzle ./drizzle
COPY workflows ./workflows
COPY public ./public
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8388
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM reaches node directly (no npm in between), so shutdown is graceful.
CMD ["node", "--import", "tsx", "src/index.ts"]
