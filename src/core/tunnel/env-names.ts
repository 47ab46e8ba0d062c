// The environment `run` gives its command: SSH2VSOCK_<NAME>_HOST and _PORT per tunnel, NAME
// being the guest's name upper-cased with every character outside A-Z and 0-9 turned into `_`.
import type { HostPort } from "../config/types.ts";
import { UsageError } from "../errors.ts";

/**
 * @example tunnelEnvName("web-1") === "WEB_1"; tunnelEnvName("vsock/3") === "VSOCK_3"
 */
export function tunnelEnvName(guest: string): string {
  return guest.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

/**
 * The variables for a set of open tunnels. Two guests whose names map to the same variable
 * (`web-1` and `web_1`) are refused rather than one silently hiding the other.
 * @example tunnelEnv([{ guest: "g1", address: { host: "127.0.0.1", port: 4000 } }])
 *   // { SSH2VSOCK_G1_HOST: "127.0.0.1", SSH2VSOCK_G1_PORT: "4000" }
 */
export function tunnelEnv(tunnels: Array<{ guest: string; address: HostPort }>): Record<string, string> {
  const env: Record<string, string> = {};
  const owner = new Map<string, string>();
  for (const t of tunnels) {
    const name = tunnelEnvName(t.guest);
    const other = owner.get(name);
    if (other !== undefined && other !== t.guest) {
      throw new UsageError(`guests "${other}" and "${t.guest}" would both be exported as SSH2VSOCK_${name}_*`, {
        hint: "rename one of them, or pick one with --guest",
      });
    }
    owner.set(name, t.guest);
    env[`SSH2VSOCK_${name}_HOST`] = t.address.host;
    env[`SSH2VSOCK_${name}_PORT`] = String(t.address.port);
  }
  return env;
}
