// The resolved configuration as `config show` prints it: plain JSON-able data with every
// secret (password, passphrase) replaced; private key paths stay, they are not secrets.

import type { GuestConfig, HopAuth, HopConfig } from "./types.ts";

/** What replaces a secret in printed configuration. */
export const REDACTED = "<redacted>";

/** A JSON-able value (what `config show --json` serialises). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

function redactAuth(auth: HopAuth): Json {
  const out: { [key: string]: Json } = { useAgent: auth.useAgent, origin: auth.origin };
  if (auth.password !== undefined) out.password = REDACTED;
  if (auth.privateKeyFile !== undefined) out.privateKeyFile = auth.privateKeyFile;
  if (auth.passphrase !== undefined) out.passphrase = REDACTED;
  if (auth.agentSock !== undefined) out.agentSock = auth.agentSock;
  return out;
}

function redactHop(hop: HopConfig): { [key: string]: Json } {
  // Round-trip through JSON to drop undefined fields and copy arrays; auth is rebuilt by hand
  // so a secret field added later is left out rather than printed.
  const { auth, ...rest } = hop;
  return { ...(JSON.parse(JSON.stringify(rest)) as { [key: string]: Json }), auth: redactAuth(auth) };
}

/**
 * A guest (and its hypervisor) as plain data with secrets redacted.
 * @example redactedView(guest).hop.auth.password // "<redacted>"
 */
export function redactedView(guest: GuestConfig): { [key: string]: Json } {
  return {
    name: guest.name,
    transport: { ...guest.transport },
    hop: redactHop(guest.hop),
    listen: { ...guest.listen },
    target: { ...guest.target },
    ...(guest.targetOrigin !== undefined ? { targetOrigin: guest.targetOrigin } : {}),
    mode: guest.mode,
    // "default" says the mode followed from the target, so a reader knows nobody chose it.
    modeOrigin: guest.modeOrigin ?? "default",
    hypervisor: redactHop(guest.hypervisor),
  };
}
