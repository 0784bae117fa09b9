# syntax=docker/dockerfile:1
# Build: native addons (better-sqlite3, hnswlib-node) compile here; TypeScript compiles src/ only
# (tsconfig.build.json, plus the console's bundling script) to dist/, so tests, benchmarks and dev
# scripts stay out of the image; the console is bundled into dist/console.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts
COPY src ./src
COPY console ./console
COPY scripts/build-console.ts ./scripts/build-console.ts
COPY models ./models
RUN npm rebuild better-sqlite3 hnswlib-node msgpackr-extract esbuild \
 && npx tsc -p tsconfig.build.json \
 && node dist/scripts/build-console.js \
 && npm prune --omit=dev

# Run: no compilers, non-root, gallery as a volume.
FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 DFG_GALLERY_DIR=/data/gallery DFG_MODELS_DIR=/app/models
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/models ./models
RUN mkdir -p /data/gallery && chown -R node:node /data
USER node
VOLUME ["/data/gallery"]
EXPOSE 8080
# Binding 0.0.0.0 needs API keys: mount a keys file and set DFG_API_KEYS_FILE (see README).
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/cli/index.js", "serve"]
