# ssh2vsock as a container entrypoint: `ssh2vsock run` opens verified tunnels to the configured
# guests, exports SSH2VSOCK_<NAME>_HOST/PORT, runs the container's command and exits with its status.
#
# Build:
#   docker build -t ssh2vsock .
# Wrap a command (config and keys mounted read-only; --init reaps zombies the command may leave):
#   docker run --rm --init \
#     -v "$PWD/ssh2vsock.toml:/etc/ssh2vsock/config.toml:ro" \
#     -v "$HOME/.ssh/id_ed25519:/home/ssh2vsock/.ssh/id_ed25519:ro" \
#     -v "$HOME/.ssh/known_hosts:/home/ssh2vsock/.ssh/known_hosts:ro" \
#     ssh2vsock --guest web1 -- \
#     sh -c 'ssh -p "$SSH2VSOCK_WEB1_PORT" -o HostKeyAlias=web1.example.com root@127.0.0.1 uptime'
# Everything after the image name is appended to the ENTRYPOINT (`ssh2vsock run`); put the
# command after `--`. `docker stop` sends SIGTERM, which ssh2vsock relays to the command.
# Paths in the mounted config must be the container's (e.g. ~/.ssh/id_ed25519 = /home/ssh2vsock/.ssh/…).

# --- build: Bun comes from npm (package.json devDependencies), like everywhere else in this project
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json bunfig.toml tsconfig.json ./
# Install scripts are not needed: ssh2's optional native addon has a pure fallback, and the
# bun package's binary works without its postinstall step. `npm ci` installs exactly the lock
# file, which lists deno's optional packages for every platform.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
RUN node_modules/.bin/bun build --compile --minify src/main.ts --outfile /out/ssh2vsock \
 && /out/ssh2vsock --version

# --- runtime: glibc (the compiled binary needs it) and the OpenSSH client for wrapped commands
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 ssh2vsock
COPY --from=build /out/ssh2vsock /usr/local/bin/ssh2vsock
USER ssh2vsock
WORKDIR /home/ssh2vsock
ENTRYPOINT ["ssh2vsock", "run"]
