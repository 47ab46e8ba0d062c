// The one place that decides how a guest transport becomes a byte stream carrying the guest's
// SSH: AF_VSOCK through socat, a libvirt domain's CID, hybrid vsock, or a plain Unix socket.
import type { GuestTransport } from "../config/types.ts";
import type { CommandRunner, CommandStream } from "./command-stream.ts";
import { awaitGreeting } from "./greeting.ts";
import { RelayError } from "../errors.ts";
import { lookupLibvirtCid } from "./libvirt-lookup.ts";
import { openUnixStream } from "./unix-stream.ts";
import { explainUnixRelay } from "./unix-errors.ts";
import { muxConnect } from "./vsock-mux.ts";

export interface RelayContext {
  runner: CommandRunner;
  /** The socat command configured for this hypervisor. */
  socat: string;
  /** Names the guest in messages: `guest web1 (vsock CID 3 port 22)`. */
  label: string;
  timeoutMs: number;
  /** Detail for -v (which CID a domain has, …); never secrets. */
  debug?: (detail: string) => void;
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
 * Opens the byte stream to the guest's SSH server and waits for its first bytes (its banner).
 * Rejects with RelayError (exit 6) naming the cause when the guest cannot be reached.
 * @example const relay = await openGuestStream({ kind: "vsock", cid: 3, port: 22 }, ctx)
 */
export async function openGuestStream(t: GuestTransport, ctx: RelayContext): Promise<CommandStream> {
  const where = ctx.runner.where;
  const label = `${ctx.label} via ${where}`;
  switch (t.kind) {
    case "vsock":
      return openVsock(t.cid, t.port, ctx, label);
    case "libvirt": {
      const { cid, uri } = await lookupLibvirtCid({ runner: ctx.runner, domain: t.domain, uri: t.uri, label, timeoutMs: ctx.timeoutMs });
      ctx.debug?.(`libvirt domain ${t.domain} (${uri}) has vsock CID ${cid}`);
      return openVsock(cid, t.port, ctx, `${ctx.label} (CID ${cid}) via ${where}`);
    }
    case "unix": {
      const cmd = await openUnixStream(t.path, ctx.runner, ctx.socat, label);
      await awaitGreeting(cmd, label, ctx.timeoutMs, explainUnixRelay(t.path));
      return cmd;
    }
    case "vsock-mux": {
      const cmd = await openUnixStream(t.path, ctx.runner, ctx.socat, label);
      const explainEarlyEnd = explainUnixRelay(t.path);
      await muxConnect(cmd, { label, port: t.port, timeoutMs: ctx.timeoutMs, explainEarlyEnd });
      ctx.debug?.(`hybrid vsock ${t.path} accepted CONNECT ${t.port}`);
      await awaitGreeting(cmd, label, ctx.timeoutMs, explainUnixRelay(t.path));
      return cmd;
    }
  }
}

async function openVsock(cid: number, port: number, ctx: RelayContext, label: string): Promise<CommandStream> {
  const argv = [ctx.socat, "-", `VSOCK-CONNECT:${cid}:${port}`];
  let cmd: CommandStream;
  try {
    cmd = await ctx.runner.run(argv);
  } catch (e) {
    // Only the local runner fails here: spawn's ENOENT means no socat on this machine.
    if (((e as RelayError).cause as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
      throw new RelayError(`${label}: socat is not installed on ${ctx.runner.where} (\`${ctx.socat}\` not found on PATH)`, {
        hint: "Node has no AF_VSOCK sockets, so local mode needs socat >= 1.7.4: apt-get install socat (or set `socat` to its path)",
      });
    }
    throw e;
  }
  await awaitGreeting(cmd, label, ctx.timeoutMs);
  return cmd;
}
