# One image for every poolwise service; the command chooses which one runs:
#   (default)                          gateway/server.ts
#   workers/auth/server.ts             workers/user/server.ts         workers/client/server.ts
#   tools/migrations/migrate-cli.ts    (the migrations Job: applies prisma/migrations over DIRECT_URL)
# tools/deploy/dockerfile.test.ts checks this file without a container engine.


# Stage 1: every dependency, because generating the Prisma client needs the prisma CLI (a development
# dependency). `bun install` runs the postinstall script, which generates it offline into shared/generated.
FROM oven/bun:1.4.5 AS prisma-client
WORKDIR /app
COPY package.json bun.lock bunfig.toml prisma.config.ts ./
COPY prisma ./prisma
COPY shared ./shared
COPY tools/migrations ./tools/migrations
RUN bun install --frozen-lockfile

# Stage 2: production dependencies only; no install scripts (nothing to generate here), and no optional
# peers: @prisma/client would otherwise bring the prisma CLI and TypeScript (393 MB instead of 135 MB).
FROM oven/bun:1.4.5 AS production-dependencies
WORKDIR /app
COPY package.json bun.lock bunfig.toml ./
RUN bun install --frozen-lockfile --production --omit=peer --ignore-scripts

# Stage 3: what runs. No .env is ever copied (.dockerignore): configuration comes from the
# environment, and an unset NODE_ENV already means production; it is said here for readers.
FROM oven/bun:1.4.5 AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY package.json bunfig.toml ./
COPY prisma ./prisma
COPY shared ./shared
COPY gateway ./gateway
COPY workers ./workers
COPY tools/migrations ./tools/migrations
COPY --from=prisma-client /app/shared/generated ./shared/generated
# Only NODE_ENV=development writes here (its generated JWT key pair, shared through a volume in
# compose.yaml); production keeps a read-only root filesystem.
RUN mkdir -p /app/.data && chown 1000:1000 /app/.data
# The official image's unprivileged `bun` user, by number: Kubernetes' runAsNonRoot can only verify a
# numeric user.
USER 1000:1000
# --no-env-file: Bun would otherwise load a .env from the working directory by itself.
ENTRYPOINT ["bun", "--no-env-file"]
CMD ["gateway/server.ts"]
