// The authentication check of one hop: a full connection (host key signature verified, then
// credentials), and only then the side effect of recording a key the user accepted.
import type { HopConfig } from "../config/types.ts";
import type { EngineIO } from "../engine-io.ts";
import type { HopTransport, SshHop } from "../ssh/hop.ts";
import type { HostKeyPolicy } from "../ssh/host-key-policy.ts";
import { openConfiguredHop } from "../tunnel/configured-hop.ts";
import { appendKnownHostsLine, type KnownHostsFs } from "./known-hosts-append.ts";
import type { PendingTrust } from "./host-key.ts";
import { failFrom, pass, warn } from "./_verdict.ts";
import type { Verdict } from "./types.ts";

export interface ConnectCheck {
  verdict: Verdict;
  hop?: SshHop;
}

/** How a hop authenticates, for messages; never the secret itself. */
export function describeAuth(hop: HopConfig): string {
  const a = hop.auth;
  if (a.privateKeyFile !== undefined) {
    return `private key ${a.privateKeyFile}${a.certificateFile !== undefined ? ` and certificate ${a.certificateFile}` : ""}`;
  }
  if (a.password !== undefined) return "password";
  if (a.useAgent) return `agent ${a.agentSock ?? "(no socket)"}`;
  return "no method";
}

/** Connects and authenticates; on success records `pending` (if any) in its known_hosts file. */
export async function checkConnect(
  label: string,
  hopConfig: HopConfig,
  transport: HopTransport,
  policy: HostKeyPolicy,
  pending: PendingTrust | undefined,
  io: EngineIO,
  fs: KnownHostsFs | undefined,
): Promise<ConnectCheck> {
  let hop: SshHop;
  try {
    hop = await openConfiguredHop(label, hopConfig, transport, policy, io);
  } catch (e) {
    const kept = pending ? `; the key you accepted was NOT added to ${pending.file}` : "";
    const v = failFrom(e);
    return { verdict: { ...v, detail: v.detail + kept } };
  }
  const who = `authenticated as ${hopConfig.username} with ${describeAuth(hopConfig)} (${hop.negotiated.serverHostKey}, ${hop.negotiated.cipher})`;
  if (!pending) return { verdict: pass(who), hop };
  // ssh2's hostVerifier runs before the signature check: record the key only after `ready`.
  if (!fs) return { verdict: warn(`${who}; nowhere to record the accepted key`), hop };
  try {
    appendKnownHostsLine(fs, pending.file, pending.line);
    io.log({ level: "info", event: "known-hosts-added", hop: label, detail: pending.file });
    return { verdict: pass(`${who}; host key added (hashed) to ${pending.file}`), hop };
  } catch (e) {
    const v = failFrom(e);
    return { verdict: warn(`${who}; ${v.detail}`, v.hint), hop };
  }
}
