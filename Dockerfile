# syntax=docker/dockerfile:1
# One image for all four services (gateway, organizations, commitments, budgets): the command picks which
# one runs, e.g. `docker run civic-graph node build/subgraphs/budgets/src/index.js` (the compiled JavaScript of
# `npm run build`; `npm run serve:budgets` runs the same, but npm does not pass SIGTERM on).
# docker-compose.yml runs all of them.

# --- dependencies -------------------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS deps
# better-sqlite3 (the embedded store used when DATABASE_URL is unset) builds a native addon when no prebuilt
# binary can be fetched. The compilers stay in this stage; the final image never sees them.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# node-gyp compiles against the headers that ship with this Node instead of downloading them.
ENV npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
# Runtime dependencies only (tsx among them: `npm run migrate`, `keys`, `import` and the other commands an operator
# runs inside the container are TypeScript).
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- build: the services compiled to JavaScript (npm run build), so that they run without tsx -----------------
FROM node:20-bookworm-slim AS build
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# --- runtime ------------------------------------------------------------------------------------------------
FROM node:20-bookworm-slim
# An explicit heap limit for each service (one per container): a runaway is stopped by V8 and the container
# restarted, instead of growing to V8's default (a quarter of the machine's memory: 4 GB on 24 GiB). Override it
# per service with NODE_OPTIONS (docs/protection.md says how the limits keep real requests far under it).
ENV NODE_ENV=production \
  APOLLO_TELEMETRY_DISABLED=1 \
  NPM_CONFIG_UPDATE_NOTIFIER=false \
  NODE_OPTIONS=--max-old-space-size=1024
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# build/ holds relative links (build/data, build/schema, build/node_modules/@civic/*) that COPY keeps as links.
COPY --from=build /app/build ./build
# The code stays root-owned and read-only to the service; only the SQLite directory (DATA_DIR's default,
# used when no DATABASE_URL is given) and the partner registry's directory (without REGISTRY_DATABASE_URL or
# DATABASE_URL) are writable by the unprivileged `node` user of the base image.
RUN mkdir -p data/db data/registry && chown node:node data/db data/registry
USER node
EXPOSE 4000 4001 4002 4003
# Node itself, not `npm run serve:gateway`: npm does not pass SIGTERM on to the process it starts, which would
# then be killed at the end of the grace period instead of draining (docs/operations.md, "Stopping").
CMD ["node", "build/gateway/src/index.js"]
