// The one place that decides how a guest transport becomes a byte stream carrying the guest's
// SSH: socat's VSOCK-CONNECT on the hypervisor (remote or local), then wait for the greeting.
import type { GuestTransport } from "../config/types.ts";
import type { CommandRunner, CommandStream } from "./command-stream.ts";
import { awaitGreeting } from "./greeting.ts";
import { RelayError } from "../errors.ts";

export interface RelayContext {
  runner: CommandRunner;
  /** The socat command configured for this hypervisor. */
  socat: string;
  /** Names the guest in messages: `guest web1 (vsock CID 3 port 22)`. */
  label: string;
  timeoutMs: number;
}

/** Describes a transport for messages: `vsock CID 3 port 22`. */
export function describeTransport(t: GuestTransport): string {
  switch (t.kind) {
    case "vsock":
      return `vsock CID ${t.cid} port ${t.port}`;
    case "vsock-mux":
      return `hybrid vsock ${t.path} port ${t.port}`;
    case "unix":
      return `unix socket ${t.path}`;
    case "libvirt":
      return `libvirt domain ${t.domain}`;
  }
}

/**
 * Opens the byte stream to the guest's SSH server and waits for its first bytes.
 * Rejects with RelayError (exit 6) carrying socat's reason when the guest cannot be reached.
 */
export async function openGuestStream(t: GuestTransport, ctx: RelayContext): Promise<CommandStream> {
  let cmd: CommandStream;
  switch (t.kind) {
    case "vsock":
      cmd = await ctx.runner.run([ctx.socat, "-", `VSOCK-CONNECT:${t.cid}:${t.port}`]);
      break;
    default:
      throw new RelayError(`${ctx.label}: ${describeTransport(t)} is not supported yet`, {
        hint: "use a guest reached by `cid`",
      });
  }
  await awaitGreeting(cmd, `${ctx.label} via ${ctx.runner.where}`, ctx.timeoutMs);
  return cmd;
}
