// Where the configuration file is found and how `~` and `$VAR` in configured paths expand.
// Pure: the environment and file existence are passed in. The current directory is never searched.

import { posix } from "node:path";
import { ConfigError } from "../errors.ts";

export interface SearchOptions {
  /** `-c FILE` from the command line. */
  explicit?: string;
  env: Record<string, string | undefined>;
  /** Only resolves a relative `-c FILE` or `$SSH2VSOCK_CONFIG`; never searched. */
  cwd: string;
  home: string;
  exists: (path: string) => boolean;
}

/**
 * The files searched, in order, when no file is named: `$XDG_CONFIG_HOME/ssh2vsock/config.toml`
 * (default `~/.config/…`), the same under each of `$XDG_CONFIG_DIRS` (default `/etc/xdg`), then
 * `/etc/ssh2vsock/config.toml`. Relative entries are ignored, as the XDG Base Directory spec
 * says: they would depend on the current directory. So is the current directory itself, because
 * `ProxyCommand` runs wherever the user happens to be, and a file there could name a `socat`
 * command to run (OpenSSH and systemd never read configuration from it either).
 * @example configSearchPath({}, "/home/u") // ["/home/u/.config/ssh2vsock/config.toml", "/etc/xdg/ssh2vsock/config.toml", "/etc/ssh2vsock/config.toml"]
 */
export function configSearchPath(env: Record<string, string | undefined>, home: string): string[] {
  const absolute = (dir: string) => posix.isAbsolute(dir);
  const configHome = env.XDG_CONFIG_HOME && absolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : posix.join(home, ".config");
  const dirs = (env.XDG_CONFIG_DIRS || "/etc/xdg").split(":").filter(absolute);
  const files = [configHome, ...dirs].map((dir) => posix.join(dir, "ssh2vsock", "config.toml"));
  files.push("/etc/ssh2vsock/config.toml");
  return [...new Set(files)];
}

/**
 * The configuration file to read, or undefined when none exists. Order: `-c FILE`,
 * `$SSH2VSOCK_CONFIG`, then configSearchPath. A file named explicitly (by `-c` or by
 * `$SSH2VSOCK_CONFIG`) must exist: falling through to another file would silently use a
 * different hypervisor than the one the user asked for. The result is always absolute.
 * @example findConfigFile({ env: {}, cwd: "/w", home: "/h", exists: (p) => p === "/h/.config/ssh2vsock/config.toml" }) // "/h/.config/ssh2vsock/config.toml"
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
  return configSearchPath(env, home).find((p) => exists(p));
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
