# One build, three small runtime targets: ingest, worker and jandi-sink (docker-compose.yml
# picks each by `target`). Runtime stages hold production dependencies and dist/ only.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json nest-cli.json ./
COPY libs libs
COPY apps apps
RUN npm run build

FROM ${NODE_IMAGE} AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
# typescript is a dev tool, kept by --omit=dev only because valibot names it an optional peer.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && rm -rf node_modules/typescript

FROM ${NODE_IMAGE} AS base
ENV NODE_ENV=production
# Stack traces name the .ts line, read from the .map files beside each bundle.
ENV NODE_OPTIONS=--enable-source-maps
WORKDIR /app
# The image's unprivileged user; the apps write nothing to disk.
USER node
STOPSIGNAL SIGTERM

FROM base AS runtime
COPY --from=production-dependencies /app/package.json ./
COPY --from=production-dependencies /app/node_modules node_modules

FROM runtime AS worker
COPY --from=build /app/dist/apps/worker dist/apps/worker
EXPOSE 9100
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.ADMIN_PORT||process.env.METRICS_PORT||9100)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/apps/worker/main.js"]

# The sink's bundle needs Node's http module only: no node_modules.
FROM base AS jandi-sink
COPY --from=build /app/dist/apps/jandi-sink dist/apps/jandi-sink
EXPOSE 8090
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8090)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/apps/jandi-sink/main.js"]

# Last, so a plain `docker build .` gives the ingest image.
FROM runtime AS ingest
COPY --from=build /app/dist/apps/ingest dist/apps/ingest
# 3000: Popbill's webhook and health; 9101: the admin port (metrics, docs, Bull Board).
EXPOSE 3000 9101
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/apps/ingest/main.js"]
