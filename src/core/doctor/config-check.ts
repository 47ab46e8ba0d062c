// First check: the configuration file is found and valid, the target names a guest (the only
// guest is taken when none is named), and its hops' user certificates fit their keys.
import type { GuestConfig, LoadedConfig } from "../config/types.ts";
import { ConfigError, type ConfigProblem } from "../errors.ts";
import { checkCertificateFiles } from "../ssh/user-certificate-check.ts";
import { describeTransport } from "../vsock/open-guest-stream.ts";
import { hypervisorLabel } from "../tunnel/hypervisor-pool.ts";
import { fail, failFrom, pass, warn } from "./_verdict.ts";
import type { DoctorDeps, Verdict } from "./types.ts";

export interface ConfigCheck {
  verdict: Verdict;
  guest?: GuestConfig;
}

/** Loads the configuration and resolves `target`; never throws. */
export function checkConfig(target: string | undefined, deps: Pick<DoctorDeps, "load" | "resolve"> & { io?: Pick<DoctorDeps["io"], "readFile"> }): ConfigCheck {
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
  const summary = `${file}: guest ${guest.name} (${describeTransport(guest.transport)}) via ${hypervisorLabel(guest.hypervisor)}, ${guest.mode} mode`;
  if (deps.io) {
    // The same user certificate checks as `config check`, for the hops of this guest only.
    const certs = checkCertificateFiles({ file: loaded.file, guests: [guest] }, (p) => deps.io!.readFile(p), new Date());
    const say = (ps: ConfigProblem[]) => ps.map((p) => `${p.path}: ${p.message}`).join("; ");
    if (certs.errors.length > 0) {
      return { verdict: fail(`${summary}; ${say(certs.errors)}`, "use the user certificate ssh-keygen -s made for this private key (ssh-keygen -L -f CERT shows it)") };
    }
    if (certs.warnings.length > 0) return { verdict: warn(`${summary}; ${say(certs.warnings)}`), guest };
  }
  return { verdict: pass(summary), guest };
}
