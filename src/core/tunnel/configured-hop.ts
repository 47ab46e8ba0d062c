// Opens a hop as the configuration describes it: user, credentials, timing and the -vv trace
// taken from the resolved hop, so the hypervisor, the guest session and doctor build it one way.
import type { HopConfig } from "../config/types.ts";
import { ssh2Trace, type EngineIO } from "../engine-io.ts";
import { openHop, type HopTransport, type SshHop } from "../ssh/hop.ts";
import { requirePlainHostKeys, type HostKeyPolicy } from "../ssh/host-key-policy.ts";
import { hopTiming } from "./hop-timing.ts";

/**
 * Connects, verifies against `policy` and authenticates (openHop's errors: 3, 4, 5, 6); a
 * policy that trusts the host only through @cert-authority lines is refused first (3).
 * `trace` names the hop in -vv lines (`{ hop: label }`, plus `guest` for a guest).
 * @example await openConfiguredHop("guest web1", guest.hop, { stream }, policy, io, { guest: "web1" })
 */
export async function openConfiguredHop(
  label: string,
  hop: HopConfig,
  transport: HopTransport,
  policy: HostKeyPolicy,
  io: EngineIO,
  trace: { guest?: string } = {},
): Promise<SshHop> {
  requirePlainHostKeys(policy, label);
  return openHop({
    label,
    transport,
    username: hop.username,
    auth: hop.auth,
    policy,
    timing: hopTiming(hop),
    readFile: io.readFile,
    debug: ssh2Trace(io, { ...trace, hop: label }),
  });
}
