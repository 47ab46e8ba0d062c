// Parses HOST:PORT options (`127.0.0.1:2201`, `[::1]:2201`) into a HostPort.
import type { HostPort } from "../core/config/types.ts";
import { UsageError } from "../core/errors.ts";

export function parseHostPort(text: string, option: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`${option}: expected HOST:PORT or [IPv6]:PORT, got "${text}"`);
  return { host: m[1] ?? m[2], port };
}
