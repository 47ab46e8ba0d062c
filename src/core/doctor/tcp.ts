// First network check of a hypervisor: its name resolves and its SSH port accepts a TCP
// connection; the server's identification line, when it sends one promptly, is reported.
import net from "node:net";
import { escapePeerText } from "../peer-text.ts";
import { fail, pass, warn } from "./_verdict.ts";
import type { Verdict } from "./types.ts";

const CAUSES: Record<string, string> = {
  ENOTFOUND: "the name does not resolve",
  EAI_AGAIN: "the name could not be resolved (DNS not answering)",
  ECONNREFUSED: "the connection was refused: nothing listens on that port",
  EHOSTUNREACH: "no route to the host",
  ENETUNREACH: "the network is unreachable",
  ECONNRESET: "the connection was reset",
};

/** Connects to host:port, waits up to `timeoutMs` for the connection and the SSH banner. */
export function checkTcp(host: string, port: number, timeoutMs: number): Promise<Verdict> {
  return new Promise((resolve) => {
    const where = `${host}:${port}`;
    const socket = net.connect({ host, port });
    let connected = false;
    let buffer = "";
    const finish = (v: Verdict) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => {
      if (!connected) {
        finish(fail(`${where}: no TCP connection within ${Math.round(timeoutMs / 1000)} s`, "check the address and port, and that no firewall drops the connection"));
      } else {
        finish(warn(`${where} accepts TCP (${socket.remoteAddress}) but sent no SSH identification`, "is sshd (and not another service) on that port?"));
      }
    }, timeoutMs);
    socket.once("connect", () => (connected = true));
    socket.on("data", (d: Buffer) => {
      buffer += d.toString("latin1");
      const nl = buffer.indexOf("\n");
      if (nl < 0 && buffer.length < 256) return;
      const ident = buffer.slice(0, nl < 0 ? 255 : nl).trim();
      if (/^SSH-(2\.0|1\.99)-/.test(ident)) finish(pass(`${where} accepts TCP (${socket.remoteAddress}); server says ${escapePeerText(ident)}`));
      else finish(fail(`${where} accepts TCP but does not speak SSH: "${escapePeerText(ident, 80)}"`, "check the hypervisor's port"));
    });
    socket.once("error", (e: NodeJS.ErrnoException) => {
      const cause = CAUSES[e.code ?? ""] ?? e.message;
      finish(fail(`${where}: ${cause}${e.code ? ` (${e.code})` : ""}`, "check the hypervisor's hostname and port, and that its sshd is running"));
    });
  });
}
