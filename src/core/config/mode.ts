// The tunnel mode (DESIGN.md "Configuration"): splice or forward, its built-in default from the
// guest's target, and the rule that splice can only relay the guest's own SSH port.

import { formatHostPort } from "./host-port.ts";
import type { HostPort, Mode } from "./types.ts";

/** Every value `mode` (and `--mode`) accepts. */
export const MODES: readonly Mode[] = ["splice", "forward"];

// Addresses that, seen from inside the guest, are the guest itself.
const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

/**
 * Whether a target is the guest's own SSH port: a loopback address on the port its SSH hop uses.
 * @example isGuestSshPort({ host: "localhost", port: 22 }, 22) // true
 * @example isGuestSshPort({ host: "127.0.0.1", port: 8080 }, 22) // false
 */
export function isGuestSshPort(target: HostPort, sshPort: number): boolean {
  return LOOPBACK.has(target.host.toLowerCase()) && target.port === sshPort;
}

/**
 * The mode a guest runs in: `explicit` when some level sets it, else splice when the target is
 * the guest's SSH port, else forward. An unset target (undefined) is the default one, which
 * stands for the guest's SSH: splice.
 * @example modeFor(undefined, 22) // "splice"
 * @example modeFor({ host: "127.0.0.1", port: 8080 }, 22) // "forward"
 * @example modeFor({ host: "127.0.0.1", port: 22 }, 22, "forward") // "forward"
 */
export function modeFor(target: HostPort | undefined, sshPort: number, explicit?: Mode): Mode {
  if (explicit !== undefined) return explicit;
  return target === undefined || isGuestSshPort(target, sshPort) ? "splice" : "forward";
}

/**
 * Why splice cannot serve this target, or undefined when it can. Splice hands the client's
 * bytes to the guest's SSH server as they are, so it has no way to reach any other port.
 * @example spliceTargetProblem({ host: "127.0.0.1", port: 8080 }, 22) // 'splice relays the guest\'s SSH port; a target like 127.0.0.1:8080 needs mode = "forward"'
 */
export function spliceTargetProblem(target: HostPort | undefined, sshPort: number): string | undefined {
  if (target === undefined || isGuestSshPort(target, sshPort)) return undefined;
  return `splice relays the guest's SSH port; a target like ${formatHostPort(target)} needs mode = "forward"`;
}
