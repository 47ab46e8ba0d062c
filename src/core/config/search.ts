// Where the configuration file is found (DESIGN.md "Configuration") and how `~` and `$VAR`
// in configured paths expand. Pure: the environment and file existence are passed in.

import { posix } from "node:path";
import { ConfigError } from "../errors.ts";

export interface SearchOptions {
  /** `-c FILE` from the command line. */
  explicit?: string;
  env: Record<string, string | undefined>;
  cwd: string;
  home: string;
  exists: (path: string) => boolean;
}

/**
 * The configuration file to read, or undefined when none exists. Order: `-c FILE`,
 * `$SSH2VSOCK_CONFIG`, `./ssh2vsock.toml`, `$XDG_CONFIG_HOME/ssh2vsock/config.toml`
 * (default `~/.config/…`), `/etc/ssh2vsock/config.toml`. A file named explicitly (by `-c` or
 * by `$SSH2VSOCK_CONFIG`) must exist: falling through to another file would silently use a
 * different hypervisor than the one the user asked for.
 * @example findConfigFile({ env: {}, cwd: "/w", home: "/h", exists: (p) => p === "/w/ssh2vsock.toml" }) // "/w/ssh2vsock.toml"
 */
export function findConfigFile(opts: SearchOptions): string | undefined {
  const { env, cwd, home, exists } = opts;
  const named: Array<[string | undefined, string]> = [
    [opts.explicit, "-c"],
    [env.SSH2VSOCK_CONFIG, "$SSH2VSOCK_CONFIG"],
  ];
  for (const [given, source] of named) {
    if (given === undefined || given === "") continue;
    const path = posix.resolve(cwd, expandPath(given, env, home));
    if (!exists(path)) {
      throw new ConfigError(`configuration file not found: ${path}`, [
        { file: path, path: "", message: `named by ${source}, but it does not exist` },
      ], { hint: `create it, or drop ${source} to use the search path` });
    }
    return path;
  }
  const xdg = env.XDG_CONFIG_HOME ? expandPath(env.XDG_CONFIG_HOME, env, home) : posix.join(home, ".config");
  const candidates = [
    posix.join(cwd, "ssh2vsock.toml"),
    posix.join(posix.resolve(cwd, xdg), "ssh2vsock", "config.toml"),
    "/etc/ssh2vsock/config.toml",
  ];
  return candidates.find((p) => exists(p));
}

/**
 * Expands a leading `~` (or `~/…`) to `home` and `$VAR` / `${VAR}` to the environment's value
 * (empty when unset, as a shell would). `~user` is left alone: there is no passwd lookup here.
 * @example expandPath("~/.ssh/$KEY", { KEY: "id_ed25519" }, "/home/u") // "/home/u/.ssh/id_ed25519"
 */
export function expandPath(path: string, env: Record<string, string | undefined>, home: string): string {
  let out = path;
  if (out === "~") out = home;
  else if (out.startsWith("~/")) out = posix.join(home, out.slice(2));
  return out.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, braced, bare) => {
    return env[(braced ?? bare) as string] ?? "";
  });
}
