# syntax=docker/dockerfile:1

# --- build: compile TypeScript with all dependencies ----------------------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
# mongodb-memory-server is never used in a container (MONGODB_URI is always set): skip its binary download.
ENV MONGOMS_DISABLE_POSTINSTALL=1
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --omit=optional --no-audit --no-fund

# --- runtime: production dependencies and compiled code only, as a non-root user ------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "require('http').get('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
# node, not npm, is PID 1's child of choice: it receives SIGTERM directly and shuts down gracefully.
# The heap size is the one `npm start` gives (README, "Memory").
CMD ["node", "--max-old-space-size=384", "--max-semi-space-size=32", "dist/server.js"]
