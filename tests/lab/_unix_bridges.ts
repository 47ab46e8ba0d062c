// Unix-socket stand-ins on the lab's hypervisor side: a socket that carries a guest's SSH (as a
// container or a VMM's forwarded port would), and hybrid vsock sockets speaking CONNECT/OK.

import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import net from "node:net";
import type { LabTools } from "./_system.ts";

/** What a lab Unix socket does with a connection. */
export type BridgeMode =
  /** Carries the guest's SSH (port 22) directly. */
  | { kind: "ssh"; netns: string }
  /** Firecracker-style hybrid vsock: `CONNECT <port>\n` → `OK <n>\n` once the guest accepts, else close. */
  | { kind: "mux"; netns: string }
  /** A hybrid vsock socket that answers nonsense. */
  | { kind: "garbage" };

/** The reply of the garbage socket (tests check it is shown, escaped). */
export const GARBAGE_REPLY = "HTTP/1.1 400 Bad Request\r\n\u0001junk\n";

/** One listening socket and the socat children it started (stopped by PID with it). */
export class UnixBridge {
  private readonly server: net.Server;
  private readonly children = new Set<ChildProcess>();
  private nextHostPort = 1073741824;

  constructor(
    private readonly tools: LabTools,
    readonly path: string,
    private readonly mode: BridgeMode,
  ) {
    this.server = net.createServer({ allowHalfOpen: true }, (c) => this.accept(c));
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.path, () => {
        this.server.unref();
        resolve();
      });
    });
  }

  /** Closes the socket and ends every bridge process (by PID), synchronously. */
  stop(): void {
    this.server.close();
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    this.children.clear();
    rmSync(this.path, { force: true });
  }

  private accept(client: net.Socket): void {
    client.on("error", () => client.destroy());
    if (this.mode.kind === "ssh") return this.bridge(client, this.mode.netns, 22, Buffer.alloc(0), () => {});
    let received = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      received = Buffer.concat([received, d]);
      const nl = received.indexOf(0x0a);
      if (nl === -1) {
        if (received.length > 256) client.destroy();
        return;
      }
      client.removeListener("data", onData);
      client.pause();
      const line = received.subarray(0, nl).toString("latin1");
      const rest = received.subarray(nl + 1);
      if (this.mode.kind === "garbage") {
        client.end(GARBAGE_REPLY);
        return;
      }
      const m = /^CONNECT ([0-9]{1,10})$/.exec(line);
      if (!m) {
        client.destroy();
        return;
      }
      const hostPort = this.nextHostPort++;
      this.bridge(client, this.mode.netns, Number(m[1]), rest, () => client.write(`OK ${hostPort}\n`));
    };
    client.on("data", onData);
  }

  /**
   * Connects to PORT on the loopback of `netns` with socat; `accepted` runs once the guest has
   * accepted (socat's "starting data transfer loop", or its first byte), before any guest byte.
   * A guest that refuses ends the client without a word, as Firecracker does.
   */
  private bridge(client: net.Socket, netns: string, port: number, early: Buffer, accepted: () => void): void {
    const child = spawn(this.tools.ip, ["netns", "exec", netns, this.tools.socat, "-d", "-d", "-", `TCP:127.0.0.1:${port}`], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    child.unref();
    this.children.add(child);
    let isAccepted = false;
    const pending: Buffer[] = [];
    const accept = () => {
      if (isAccepted) return;
      isAccepted = true;
      accepted();
      for (const p of pending) client.write(p);
      child.stdout!.on("data", (d: Buffer) => {
        if (!client.write(d)) child.stdout!.pause();
      });
      client.on("drain", () => child.stdout!.resume());
      child.stdout!.on("end", () => client.end());
      if (early.length > 0) child.stdin!.write(early);
      client.pipe(child.stdin!);
      client.resume();
    };
    child.stderr!.setEncoding("utf8").on("data", (t: string) => {
      if (t.includes("starting data transfer loop")) accept();
    });
    child.stdout!.once("data", (d: Buffer) => {
      if (!isAccepted) {
        pending.push(d);
        accept();
      }
    });
    child.stdin!.on("error", () => {});
    child.on("close", () => {
      this.children.delete(child);
      if (!isAccepted) client.destroy();
      else client.end();
    });
    client.on("close", () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    });
  }
}
