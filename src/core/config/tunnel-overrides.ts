// `--mode` and `--target` applied to a resolved guest: the default mode follows the new target,
// and splice set (on the command line or in the config) for a target it cannot reach is refused.

import { UsageError } from "../errors.ts";
import { formatHostPort } from "./host-port.ts";
import { modeFor, spliceTargetProblem } from "./mode.ts";
import { hasAuth } from "./resolve.ts";
import type { GuestConfig, HostPort, Mode } from "./types.ts";

/** What the command line says about a tunnel; undefined fields leave the guest as resolved. */
export interface TunnelOverrides {
  /** `--mode`. */
  mode?: Mode | undefined;
  /** `--target`, already parsed. */
  target?: HostPort | undefined;
}

/**
 * The guest with the overrides applied. An explicit mode (`--mode`, else one the config set)
 * is kept; otherwise the mode is recomputed from the target. Throws UsageError when splice
 * meets a target that is not the guest's SSH port, or when the result is forward mode for a
 * guest that has no authentication (it was splice, which needs none).
 * @example applyTunnelOverrides(web1, { target: { host: "127.0.0.1", port: 8080 } }).mode // "forward"
 */
export function applyTunnelOverrides(guest: GuestConfig, o: TunnelOverrides): GuestConfig {
  if (o.mode === undefined && o.target === undefined) return guest;
  const out: GuestConfig = { ...guest };
  if (o.target !== undefined) {
    out.target = { ...o.target };
    out.targetOrigin = "--target";
  }
  const explicit = o.mode ?? (guest.modeOrigin !== undefined ? guest.mode : undefined);
  const modeOrigin = o.mode !== undefined ? "--mode" : guest.modeOrigin;
  // Only a target somebody chose can contradict splice; the default one is the guest's SSH.
  const target = out.targetOrigin !== undefined ? out.target : undefined;
  if (explicit === "splice") {
    const problem = spliceTargetProblem(target, guest.hop.port);
    if (problem !== undefined) {
      throw new UsageError(`${guest.name}: ${modeOrigin}: ${problem}`, {
        hint: `pass --mode forward to reach ${formatHostPort(target!)} through ssh2vsock's own session to the guest`,
      });
    }
  }
  out.mode = modeFor(target, guest.hop.port, explicit);
  if (modeOrigin !== undefined && explicit !== undefined) out.modeOrigin = modeOrigin;
  else delete out.modeOrigin;
  if (out.mode === "forward" && guest.mode === "splice" && !hasAuth(guest.hop.auth)) {
    throw new UsageError(`${guest.name}: forward mode logs into the guest, but no authentication is configured for it`, {
      hint: "set password, ssh_private_key or ssh_use_agent = true on the guest or its hypervisor, or use --mode splice",
    });
  }
  return out;
}
