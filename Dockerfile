# ssh2vsock as a container entrypoint: `ssh2vsock run` opens verified tunnels to the configured
# guests, exports SSH2VSOCK_<NAME>_HOST/PORT, runs the container's command and exits with its status.
#
# Build (the commit is passed in because .git is not part of the build context; the uid is
# yours, so that a private key mounted read-only with mode 0600 is readable by the image's user):
#   docker build --build-arg SSH2VSOCK_COMMIT="$(git rev-parse --short HEAD)" \
#     --build-arg SSH2VSOCK_UID="$(id -u)" -t ssh2vsock .
# Wrap a command (config and keys mounted read-only; --init reaps zombies the command may leave):
#   docker run --rm --init \
#     -v "$HOME/.config/ssh2vsock/config.toml:/etc/ssh2vsock/config.toml:ro" \
#     -v "$HOME/.ssh/id_ed25519:/home/ssh2vsock/.ssh/id_ed25519:ro" \
#     -v "$HOME/.ssh/known_hosts:/home/ssh2vsock/.ssh/known_hosts:ro" \
#     ssh2vsock --guest web1 -- \
#     sh -c 'ssh -p "$SSH2VSOCK_WEB1_PORT" -o HostKeyAlias=web1.example.com root@127.0.0.1 uptime'
# Everything after the image name is appended to the ENTRYPOINT (`ssh2vsock run`); put the
# command after `--`. `docker stop` sends SIGTERM, which ssh2vsock relays to the command.
# Paths in the mounted config are the container's: ~ is /home/ssh2vsock. No agent runs here, so
# the config authenticates with ssh_private_key. The known_hosts file must list the guest under
# its configured hostname (what `ssh2vsock keyscan web1` writes), which HostKeyAlias names.
# Built with the default uid (10001), the image cannot read your 0600 key: mount a copy it owns
# (`sudo install -m 0600 -o 10001 ~/.ssh/id_ed25519 ./id_ed25519`). `docker run --user` is no
# way around it: OpenSSH's ssh refuses to run for a uid without a passwd entry.

# --- build: Bun comes from npm (package.json devDependencies), like everywhere else in this project
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json bunfig.toml tsconfig.json ./
# `npm ci` installs exactly the lock file, which lists deno's optional packages for every
# platform. Install scripts are skipped (this image has no compiler for ssh2's optional native
# addons), except bun's, which puts its binary in place. cpu-features, an optional addon ssh2
# does without, is removed unbuilt: Bun's bundler cannot resolve its missing .node file.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && node node_modules/bun/install.js \
 && rm -rf node_modules/cpu-features
COPY src ./src
# The flags of package.json's `npm run build` (--bytecode: start-up from precompiled bytecode).
ARG SSH2VSOCK_COMMIT=unknown
RUN node_modules/.bin/bun build --compile --minify --sourcemap --bytecode --format=esm \
      --define "SSH2VSOCK_COMMIT=\"${SSH2VSOCK_COMMIT}\"" src/main.ts --outfile /out/ssh2vsock \
 && /out/ssh2vsock --version

# --- runtime: glibc (the compiled binary needs it) and the OpenSSH client for wrapped commands
FROM debian:bookworm-slim
ARG SSH2VSOCK_UID=10001
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid "${SSH2VSOCK_UID}" ssh2vsock
COPY --from=build /out/ssh2vsock /usr/local/bin/ssh2vsock
USER ssh2vsock
WORKDIR /home/ssh2vsock
ENTRYPOINT ["ssh2vsock", "run"]
