// Last check: the verified guest session forwards a direct-tcpip channel to the tunnel's
// `target`, as every tunnel connection will; the target's first bytes are reported if it speaks first.
import type { HostPort } from "../config/types.ts";
import type { SshHop } from "../ssh/hop.ts";
import { escapePeerText } from "../peer-text.ts";
import { fail, pass } from "./_verdict.ts";
import type { Verdict } from "./types.ts";

/** Opens a channel to `target` on the guest and waits up to `waitMs` for it to say something. */
export async function checkForward(hop: SshHop, target: HostPort, waitMs = 2000): Promise<Verdict> {
  const where = `${target.host}:${target.port}`;
  let channel;
  try {
    channel = await hop.forwardOut(target.host, target.port);
  } catch (e) {
    const reason = escapePeerText((e as Error).message.replace(/^\(SSH\) /, ""));
    if (/prohibited/i.test(reason)) {
      return fail(`the guest refused to forward to ${where}: ${reason}`, "set AllowTcpForwarding yes (or local) in the guest's sshd_config, and check PermitOpen and DisableForwarding");
    }
    return fail(`the guest could not open a connection to ${where}: ${reason}`, `is a service listening on ${where} inside the guest? Change \`target\` if it lives elsewhere; AllowTcpForwarding must be enabled in the guest's sshd`);
  }
  const first = await new Promise<Buffer | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), waitMs);
    channel.once("data", (d: Buffer) => {
      clearTimeout(timer);
      resolve(d);
    });
    channel.once("close", () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
  channel.close();
  if (!first) return pass(`forwarding to ${where} works (channel opened; the service did not speak first)`);
  const line = escapePeerText(first.toString("latin1").split(/\r?\n/)[0]!, 120);
  return pass(`forwarding to ${where} works; it answered: ${line}`);
}
