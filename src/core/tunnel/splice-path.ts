// The splice path to a guest: a relay through the verified hypervisor session, with the
// handshake inspector checking the guest's host key inside the client's own key exchange.
import type { GuestConfig } from "../config/types.ts";
import type { EngineIO } from "../engine-io.ts";
import { HostKeyError, RelayError } from "../errors.ts";
import { describeAlgorithmMismatch, hostKeyErrorFor } from "../hostkeys/index.ts";
import { createHandshakeInspector } from "../handshake/inspector.ts";
import { endsOf, spliceInspected, type Splice, type StreamEnds } from "../handshake/splice.ts";
import type { HostKeyPolicy } from "../ssh/host-key-policy.ts";
import { probeHostKey } from "../ssh/probe.ts";
import { probeKeyWithInspector } from "../handshake/key-probe.ts";
import { escapePeerText } from "../peer-text.ts";
import { guestLabel, openGuestRelay } from "./guest-session.ts";
import { hopTiming } from "./hop-timing.ts";
import type { HypervisorPool } from "./hypervisor-pool.ts";
import type { CommandStream } from "../vsock/command-stream.ts";

/**
 * Relays `client` to the guest's SSH port, guarded by the inspector. Rejects when the relay
 * cannot be opened (RelayError 6, UnreachableError 5, the hypervisor's HostKeyError 3); the
 * returned splice's `decided` tells whether the guest's key was trusted (a refusal has
 * already closed both sides). The relay (a new one, or `openRelay`'s) ends with the splice.
 */
export async function spliceToGuest(
  client: StreamEnds,
  guest: GuestConfig,
  pool: HypervisorPool,
  io: EngineIO,
  policy: HostKeyPolicy,
  openRelay: () => Promise<CommandStream> = () => openGuestRelay(guest, pool, io),
): Promise<Splice> {
  const relay = await openRelay();
  const inspector = createHandshakeInspector(policy, { label: guestLabel(guest), hostname: guest.hop.hostname ?? guest.name });
  const splice = spliceInspected(client, endsOf(relay.stream), inspector, hopTiming(guest.hop).readyTimeoutMs);
  void splice.done.then(() => relay.kill());
  void splice.decided.then((o) => {
    if (o.kind === "verified") {
      const certificate = o.certificate ? `; certificate ${o.certificate}` : "";
      io.log({ level: "debug", event: "verified", guest: guest.name, hop: guestLabel(guest), detail: `${o.algorithm} ${policy.fingerprint(o.hostKey)} (${o.kex}; ${o.source}${certificate})` });
    } else {
      relay.kill();
    }
  });
  return splice;
}

/**
 * Start-up check of the splice path: one handshake to the guest, offering only the trusted
 * algorithms, stopped as soon as the host key is presented, and that key verified. Ready
 * lines then keep their meaning (both hops verified) and failures their exit codes.
 * With a @cert-authority line for the guest, the probe offers certificates too, which only
 * the inspector's own key probe can (ssh2 cannot negotiate them).
 */
export async function probeGuestKey(guest: GuestConfig, pool: HypervisorPool, io: EngineIO, policy: HostKeyPolicy): Promise<void> {
  const relay = await openGuestRelay(guest, pool, io);
  const label = guestLabel(guest);
  if (policy.anchors.certAuthorities.length > 0) {
    io.log({ level: "debug", event: "connect", guest: guest.name, hop: label, detail: `offering ${[...policy.certificateAlgorithms, ...policy.algorithms].join(",")}` });
    const o = await probeKeyWithInspector(relay.stream, policy, { label, hostname: guest.hop.hostname ?? guest.name }, hopTiming(guest.hop).readyTimeoutMs)
      .finally(() => relay.kill());
    const certificate = o.certificate ? `; certificate ${o.certificate}` : "";
    io.log({ level: "info", event: "verified", guest: guest.name, hop: label, detail: `${o.algorithm} ${policy.fingerprint(o.hostKey)} (${o.source}${certificate})` });
    return;
  }
  io.log({ level: "debug", event: "connect", guest: guest.name, hop: label, detail: `offering ${policy.algorithms.join(",")}` });
  try {
    const probe = await probeHostKey({ stream: relay.stream }, [...policy.algorithms], hopTiming(guest.hop).readyTimeoutMs);
    if (!probe.presented) {
      if (probe.noOverlap) {
        throw new HostKeyError("hostkey-algorithm", `${label}: ${describeAlgorithmMismatch(probe.offered ?? [], [...policy.algorithms])}`);
      }
      throw new RelayError(`${label}: the guest's SSH handshake failed before it presented a host key: ${escapePeerText(probe.failure ?? "no reply")}`, {
        hint: "is an SSH server (and not another service) listening on that port in the guest?",
      });
    }
    const verdict = policy.verify(probe.presented);
    if (verdict.kind !== "trusted") throw hostKeyErrorFor(verdict, `${label} (${guest.hop.hostname ?? guest.name})`, probe.presented.type);
    io.log({ level: "info", event: "verified", guest: guest.name, hop: label, detail: `${probe.presented.type} ${policy.fingerprint(probe.presented)} (${verdict.source})` });
  } finally {
    relay.kill();
  }
}
