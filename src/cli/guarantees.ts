// Says once, at the start of a run, which guarantees this configuration weakens: one warn log
// line each (human or JSON, as --log-format says), the code as the event, never a secret.
import { statSync } from "node:fs";
import type { GuestConfig, HypervisorConfig } from "../core/config/types.ts";
import type { EngineIO } from "../core/engine-io.ts";
import { weakenedGuarantees, type WeakenedGuarantee } from "../core/guarantees.ts";
import type { CliContext } from "./context.ts";

/** The configuration file's path and permission bits, when one was read (and can be looked at). */
export function configFileMode(file: string | undefined): { path: string; mode: number } | undefined {
  if (file === undefined) return undefined;
  try {
    return { path: file, mode: statSync(file).mode & 0o7777 };
  } catch {
    return undefined;
  }
}

/** Logs each weakened guarantee of this run as a warning and returns them. */
export function warnWeakened(
  ctx: Pick<CliContext, "loaded"> & { io: Pick<EngineIO, "log"> },
  guests: GuestConfig[],
  opts: { listeners: boolean; hypervisors?: HypervisorConfig[] },
): WeakenedGuarantee[] {
  const found = weakenedGuarantees({ guests, listeners: opts.listeners, hypervisors: opts.hypervisors, configFile: configFileMode(ctx.loaded.file) });
  for (const w of found) {
    ctx.io.log({ level: "warn", event: w.code, ...(w.guest ? { guest: w.guest } : {}), detail: `${w.message} (hint: ${w.hint})` });
  }
  return found;
}
