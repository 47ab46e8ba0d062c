// Shared pieces of the config unit tests: a config loaded from TOML text as if it were
// /w/ssh2vsock.toml, the problems it raises, and small blocks the mode tests build on.
import assert from "node:assert/strict";
import { ConfigError, type ConfigProblem } from "../../src/core/errors.ts";
import { loadConfig, type GuestConfig, type HopConfig, type LoadedConfig } from "../../src/core/config/index.ts";

export const FILE = "/w/ssh2vsock.toml";

/** Loads `toml` as the only file that exists; any other read is a test bug. */
export function loadToml(toml: string, env: Record<string, string> = {}): LoadedConfig {
  return loadConfig({
    explicit: FILE,
    env,
    cwd: "/w",
    home: "/home/u",
    exists: (p) => p === FILE,
    readFile: (p) => {
      if (p !== FILE) throw new Error(`unexpected read ${p}`);
      return toml;
    },
  });
}

/** Every problem loading `toml` reports (none when it loads). */
export function problemsOf(toml: string, env: Record<string, string> = {}): ConfigProblem[] {
  try {
    loadToml(toml, env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    return e.problems;
  }
  return [];
}

/** The resolved guest `name` of `toml`. */
export function guestOf(toml: string, name = "web1"): GuestConfig {
  const g = loadToml(toml).guests.find((x) => x.name === name);
  assert.ok(g, `no guest ${name}`);
  return g;
}

/** Whether a hop has any source its host key can be verified against. */
export function hasVerification(hop: HopConfig): boolean {
  const v = hop.verification;
  return v.knownHosts.length > 0 || v.knownHostsFile !== undefined || v.useSshfp;
}

/** A hypervisor that can be reached and verified; guests add their own lines. */
export const HV = `[hypervisor]\nhostname = "hv1.example.com"\nknown_hosts_file = "/kh"\nssh_use_agent = true\n`;
export const WEB1 = `[guests.web1]\ncid = 3\nhostname = "web1.example.com"\n`;
export const HV2 = `[hypervisors.hv2]\nhostname = "hv2.example.com"\n`;
