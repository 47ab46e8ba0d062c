// First check: the configuration file is found and valid, and the target names a guest (the
// only guest is taken when none is named).
import type { GuestConfig, LoadedConfig } from "../config/types.ts";
import { ConfigError } from "../errors.ts";
import { describeTransport } from "../vsock/open-guest-stream.ts";
import { hypervisorLabel } from "../tunnel/hypervisor-pool.ts";
import { fail, failFrom, pass } from "./_verdict.ts";
import type { DoctorDeps, Verdict } from "./types.ts";

export interface ConfigCheck {
  verdict: Verdict;
  guest?: GuestConfig;
}

/** Loads the configuration and resolves `target`; never throws. */
export function checkConfig(target: string | undefined, deps: Pick<DoctorDeps, "load" | "resolve">): ConfigCheck {
  let loaded: LoadedConfig;
  try {
    loaded = deps.load();
  } catch (e) {
    if (e instanceof ConfigError && e.problems.length > 0) {
      const problems = e.problems.map((p) => `${p.file}${p.line !== undefined ? `:${p.line}` : ""}: ${p.path ? `${p.path}: ` : ""}${p.message}`);
      return { verdict: fail(`${e.message}: ${problems.join("; ")}`, e.hint ?? "fix the attributes named above (ssh2vsock config check)") };
    }
    return { verdict: failFrom(e) };
  }
  const file = loaded.file ?? "no configuration file (ad-hoc targets use the local hypervisor)";
  let name = target;
  if (name === undefined) {
    if (loaded.guests.length !== 1) {
      const names = loaded.guests.map((g) => g.name);
      return {
        verdict: fail(`${file}: no target given and ${names.length === 0 ? "no guest is" : `${names.length} guests are`} configured`,
          names.length > 0 ? `name one: ssh2vsock doctor ${names[0]} (configured: ${names.join(", ")})` : "name a target (vsock/CID, qemu/DOMAIN, …) or add [guests.NAME]"),
      };
    }
    name = loaded.guests[0]!.name;
  }
  let guest: GuestConfig;
  try {
    guest = deps.resolve(name, loaded);
  } catch (e) {
    return { verdict: failFrom(e) };
  }
  return {
    verdict: pass(`${file}: guest ${guest.name} (${describeTransport(guest.transport)}) via ${hypervisorLabel(guest.hypervisor)}, ${guest.mode} mode`),
    guest,
  };
}
