// The I/O the engine needs, injected: file reads, SSHFP lookups and a structured log sink.
// Production wiring is nodeEngineIO(); tests may pass their own.
import { readFileSync } from "node:fs";
import type { TrustIO } from "./ssh/host-key-policy.ts";
import { sshfpTrust } from "./dns/index.ts";

export type LogLevel = "error" | "warn" | "info" | "debug" | "trace";

/** One structured log event; `detail` never carries secrets. */
export interface LogEvent {
  level: LogLevel;
  event: string;
  guest?: string;
  hop?: string;
  detail?: string;
}

export interface EngineIO extends TrustIO {
  readFile(path: string): Buffer;
  log(e: LogEvent): void;
}

/** node:fs for files, the real DNS client for SSHFP, and the given log sink. */
export function nodeEngineIO(log: (e: LogEvent) => void = () => {}): EngineIO {
  return {
    readFile: (p) => readFileSync(p),
    readText(p) {
      try {
        return readFileSync(p, "utf8");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
      }
    },
    sshfp: (name, resolver, opts) => sshfpTrust(name, resolver, opts),
    log,
  };
}
