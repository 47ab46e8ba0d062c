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

/** Reads the configuration from the search path of DESIGN.md (or -c FILE). */
export function loadConfiguration(opts: GlobalOptions): LoadedConfig {
  return loadConfig({
    explicit: opts.config,
    env: process.env as Record<string, string | undefined>,
    cwd: process.cwd(),
    home: os.homedir(),
    readFile: (p: string) => readFileSync(p, "utf8"),
    exists: (p: string) => existsSync(p),
  });
}

/** Resolves a target against a loaded configuration and the --hypervisor override. */
export function resolveWith(opts: GlobalOptions, loaded: LoadedConfig, target: string, port?: number): GuestConfig {
  const env = process.env as Record<string, string | undefined>;
  return resolveTarget(target, loaded, { hypervisorOverride: opts.hypervisor, port, env, home: os.homedir(), exists: (p: string) => existsSync(p) });
}

/** The engine's I/O with the stderr logger; ssh2's per-packet traces only at -vv. */
export function engineIO(opts: GlobalOptions): EngineIO {
  const verbosity = opts.verbose ?? 0;
  return nodeEngineIO(makeLogger(verbosity, opts.logFormat ?? "human"), verbosity >= 2);
}

/** Loads the configuration and builds the engine I/O with the stderr logger. */
export function cliContext(opts: GlobalOptions): CliContext {
  const loaded = loadConfiguration(opts);
  return {
    loaded,
    io: engineIO(opts),
    resolve: (target, o = {}) => resolveWith(opts, loaded, target, o.port),
  };
}
