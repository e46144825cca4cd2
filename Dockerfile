# syntax=docker/dockerfile:1
# Build stage: install exactly the locked dependencies (dev ones too: tsx runs the TypeScript).
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund && npm install --no-save --no-audit --no-fund tsx

# Runtime stage: sources + node_modules, a non-root user, data on a volume.
FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=8388 DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json drizzle.config.ts drizzle.sqlite.config.ts ./
COPY src ./src
COPY drizzle ./drizzle
COPY workflows ./workflows
COPY public ./public
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8388
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node_modules/.bin/tsx", "src/index.ts"]
