// The I/O the engine needs, injected: file reads, SSHFP lookups and a structured log sink.
// Production wiring is nodeEngineIO(); tests may pass their own.
import { readFileSync } from "node:fs";
import type { TrustIO } from "./ssh/host-key-policy.ts";
import { sshfpTrust } from "./dns/index.ts";
import { escapePeerText } from "./peer-text.ts";

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
  /** Trace events are kept (-vv): only then is ssh2's per-packet trace worth building. */
  traces?: boolean;
}

/**
 * The ssh2 trace callback for a hop, or undefined when traces are not kept: ssh2 then skips
 * formatting a line for every packet of the relay.
 */
export function ssh2Trace(io: EngineIO, where: Pick<LogEvent, "guest" | "hop">): ((line: string) => void) | undefined {
  // ssh2's lines quote what the server sent (a DISCONNECT's text, debug messages) verbatim.
  return io.traces ? (line) => io.log({ level: "trace", event: "ssh2", ...where, detail: escapePeerText(line, 4096) }) : undefined;
}

/** node:fs for files, the real DNS client for SSHFP, and the given log sink. */
export function nodeEngineIO(log: (e: LogEvent) => void = () => {}, traces = false): EngineIO {
  return {
    traces,
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
