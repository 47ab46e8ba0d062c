// What every command needs: global options, the loaded configuration, and the engine's I/O
// wired to real files, real DNS and the stderr logger.
import os from "node:os";
import { existsSync, readFileSync } from "node:fs";
import { loadConfig, resolveTarget } from "../core/config/index.ts";
import type { GuestConfig, LoadedConfig } from "../core/config/types.ts";
import { nodeEngineIO, type EngineIO } from "../core/engine-io.ts";
import { makeLogger, type LogFormat } from "./logger.ts";

export interface GlobalOptions {
  config?: string;
  verbose?: number;
  logFormat?: LogFormat;
  hypervisor?: string;
}

export interface CliContext {
  loaded: LoadedConfig;
  io: EngineIO;
  resolve(target: string, opts?: { port?: number }): GuestConfig;
}

/** Loads the configuration (search path of DESIGN.md) and builds the engine I/O. */
export function cliContext(opts: GlobalOptions): CliContext {
  const env = process.env as Record<string, string | undefined>;
  const home = os.homedir();
  const loaded = loadConfig({
    explicit: opts.config,
    env,
    cwd: process.cwd(),
    home,
    readFile: (p: string) => readFileSync(p, "utf8"),
    exists: (p: string) => existsSync(p),
  });
  const io = nodeEngineIO(makeLogger(opts.verbose ?? 0, opts.logFormat ?? "human"));
  return {
    loaded,
    io,
    resolve: (target, o = {}) =>
      resolveTarget(target, loaded, { hypervisorOverride: opts.hypervisor, port: o.port, env, home, exists: (p: string) => existsSync(p) }),
  };
}
