// Diagnostics on stderr: human lines by default, one JSON object per line with
// `--log-format json`; verbosity from -v/-vv. Secrets never reach here (the engine omits them).
import type { LogEvent, LogLevel } from "../core/engine-io.ts";
import { UsageError } from "../core/errors.ts";

export type LogFormat = "human" | "json";

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };

/** Builds the log sink: verbosity 0 shows warnings and errors, 1 adds info and debug, 2 adds traces. */
export function makeLogger(verbosity: number, format: LogFormat, write: (line: string) => void = (l) => process.stderr.write(l)) {
  if (format !== "human" && format !== "json") {
    throw new UsageError(`--log-format: expected human or json, got "${format}"`);
  }
  const max = verbosity <= 0 ? RANK.warn : verbosity === 1 ? RANK.debug : RANK.trace;
  return (e: LogEvent): void => {
    if (RANK[e.level] > max) return;
    if (format === "json") {
      // A fixed set of keys (null when absent) so log shippers see one schema.
      const { level, event, guest = null, hop = null, detail = null } = e;
      write(JSON.stringify({ time: new Date().toISOString(), level, event, guest, hop, detail }) + "\n");
      return;
    }
    const where = [e.guest && `guest=${e.guest}`, e.hop && !e.hop.startsWith("guest") ? e.hop : undefined].filter(Boolean).join(" ");
    write(`ssh2vsock: ${e.level}: ${e.event}${where ? ` [${where}]` : ""}${e.detail ? `: ${e.detail}` : ""}\n`);
  };
}
