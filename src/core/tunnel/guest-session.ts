// Opens the guest's verified SSH session: hypervisor session from the pool, relay stream to
// the guest, then the second hop over that stream, each step failing with its own exit code.
import type { GuestConfig } from "../config/types.ts";
import type { EngineIO } from "../engine-io.ts";
import type { SshHop } from "../ssh/hop.ts";
import { openConfiguredHop } from "./configured-hop.ts";
import { buildHostKeyPolicy, requirePlainHostKeys, type HostKeyPolicy } from "../ssh/host-key-policy.ts";
import type { CommandStream } from "../vsock/command-stream.ts";
import { describeTransport, openGuestStream } from "../vsock/open-guest-stream.ts";
import { hopTiming } from "./hop-timing.ts";
import type { HypervisorPool } from "./hypervisor-pool.ts";

export interface GuestSession {
  readonly hop: SshHop;
  /** Whether the guest hop is still connected. */
  readonly isOpen: boolean;
  /** Resolves when the guest hop has ended (its own failure, or the hypervisor's). */
  readonly closed: Promise<void>;
  close(): void;
}

/** `guest web1` */
export const guestLabel = (g: GuestConfig): string => `guest ${g.name}`;

/** Opens just the relay stream to the guest's SSH port (what `proxy` hands to OpenSSH). */
export async function openGuestRelay(guest: GuestConfig, pool: HypervisorPool, io: EngineIO): Promise<CommandStream> {
  const runner = await pool.runner(guest.hypervisor);
  const label = `${guestLabel(guest)} (${describeTransport(guest.transport)})`;
  io.log({ level: "debug", event: "relay", guest: guest.name, hop: runner.where, detail: describeTransport(guest.transport) });
  return openGuestStream(guest.transport, {
    runner,
    socat: guest.hypervisor.socat,
    label,
    timeoutMs: hopTiming(guest.hop).readyTimeoutMs,
    debug: (detail) => io.log({ level: "debug", event: "relay", guest: guest.name, hop: runner.where, detail }),
  });
}

/** Builds the guest's host key policy; done before any connection so distrust fails fast. */
export function guestPolicy(guest: GuestConfig, io: EngineIO): Promise<HostKeyPolicy> {
  return buildHostKeyPolicy(guest.hop.verification, guest.hop.hostname, guest.hop.port, guestLabel(guest), io);
}

/**
 * Connects both hops and verifies both host keys.
 * Errors: HostKeyError (3), AuthError (4), UnreachableError (5), RelayError (6).
 */
export async function connectGuest(guest: GuestConfig, pool: HypervisorPool, io: EngineIO): Promise<GuestSession> {
  const policy = await guestPolicy(guest, io);
  requirePlainHostKeys(policy, guestLabel(guest));
  for (const w of policy.warnings) io.log({ level: "warn", event: "known-hosts", guest: guest.name, detail: w });
  const relay = await openGuestRelay(guest, pool, io);
  const label = guestLabel(guest);
  io.log({ level: "debug", event: "connect", guest: guest.name, hop: label, detail: `offering ${policy.algorithms.join(",")}` });
  try {
    const hop = await openConfiguredHop(label, guest.hop, { stream: relay.stream }, policy, io, { guest: guest.name });
    io.log({ level: "info", event: "verified", guest: guest.name, hop: label, detail: `${hop.negotiated.serverHostKey} ${policy.fingerprint(hop.hostKey)}` });
    void hop.closed.then(() => relay.kill());
    return {
      hop,
      get isOpen() {
        return hop.isOpen;
      },
      closed: hop.closed,
      close: () => {
        hop.close();
        relay.kill();
      },
    };
  } catch (e) {
    relay.kill();
    throw e;
  }
}
