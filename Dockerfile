# The image both services run (docker-compose.yml): the compiled JavaScript of @rta/cli and the
# production dependencies of it and its workspace packages, as a non-root user.

# Build stage: install everything, compile, then `pnpm deploy` the CLI with --prod into /app.
FROM node:20-bookworm-slim AS build
WORKDIR /src
RUN npm install -g pnpm@10.20.0
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json ./
COPY scripts ./scripts
COPY packages ./packages
COPY services ./services
COPY test/package.json ./test/package.json
RUN pnpm install --frozen-lockfile
RUN pnpm build && pnpm --filter @rta/cli deploy --legacy --prod /app

# Run stage: no pnpm, no compiler, no test dependencies.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
# The DuckDB file and the tracker's dashboard read it live here (a volume in docker-compose.yml).
RUN mkdir -p /app/.data && chown node:node /app/.data \
  && printf '#!/bin/sh\nexec node /app/dist/main.js "$@"\n' > /usr/local/bin/rta && chmod +x /usr/local/bin/rta
USER node
EXPOSE 8080
# GET /healthz on PORT: 200 when the tracker answers and Redis does (the flusher, which serves
# no HTTP, turns it off in docker-compose.yml).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "bin/healthcheck.mjs"]
ENTRYPOINT ["rta"]
CMD ["start"]
