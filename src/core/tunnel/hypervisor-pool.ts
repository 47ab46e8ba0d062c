// Shares one verified hypervisor session among every guest behind it (same address, user and
// credentials), reconnecting on demand when it has died, and opening another connection only
// when the hypervisor refuses more channels on the first (sshd's MaxSessions, default 10).
import type { ClientChannel } from "ssh2";
import type { HypervisorConfig } from "../config/types.ts";
import type { EngineIO } from "../engine-io.ts";
import type { SshHop } from "../ssh/hop.ts";
import { openConfiguredHop } from "./configured-hop.ts";
import { buildHostKeyPolicy } from "../ssh/host-key-policy.ts";
import { localRunner, remoteRunner, type CommandRunner } from "../vsock/command-stream.ts";
import { OperationError } from "../errors.ts";

/** `hypervisor root@127.0.0.1:2222` */
export function hypervisorLabel(hv: HypervisorConfig): string {
  return hv.local ? "local hypervisor" : `hypervisor ${hv.username}@${hv.hostname}:${hv.port}`;
}

/** Sessions are shared only when everything that identifies and authenticates them is equal. */
function poolKey(hv: HypervisorConfig): string {
  if (hv.local) return "local";
  const { hostname, port, username, auth, verification } = hv;
  return JSON.stringify([hostname, port, username, auth.privateKeyFile, auth.certificateFile, auth.password, auth.useAgent, auth.agentSock, verification]);
}

/**
 * Channel-open failure reasons that, for a session channel, mean "this connection is full":
 * OpenSSH answers MaxSessions with 2 ("open failed"); others use 1 or 4 (resource shortage).
 */
const REFUSED_FOR_NOW = new Set([1, 2, 4]);

/** Opens one verified, authenticated connection to a hypervisor; tests pass fakes. */
export type HypervisorConnector = (hv: HypervisorConfig, io: EngineIO) => Promise<SshHop>;

export class HypervisorPool {
  readonly #sessions = new Map<string, Promise<SshHop>>();
  /** Further connections to the same hypervisor, opened when the first refused a channel. */
  readonly #overflow = new Map<string, Promise<SshHop>[]>();
  readonly #opening = new Map<string, Promise<SshHop>>();
  readonly #io: EngineIO;
  readonly #connector: HypervisorConnector;
  #closed = false;
  /** Connections attempted to hypervisors (each a full, verified handshake when it succeeds). */
  handshakes = 0;

  constructor(io: EngineIO, connector: HypervisorConnector = connectHypervisor) {
    this.#io = io;
    this.#connector = connector;
  }

  /** A runner for commands on this hypervisor, connecting (or reconnecting) if needed. */
  async runner(hv: HypervisorConfig): Promise<CommandRunner> {
    if (hv.local) return localRunner();
    const primary = await this.session(hv);
    return remoteRunner({ label: primary.label, exec: (command) => this.#exec(hv, command) });
  }

  /**
   * Opens an exec channel on the primary session; when the hypervisor refuses it as full,
   * on another open connection to it, or on a new one (verified like the first).
   */
  async #exec(hv: HypervisorConfig, command: string): Promise<ClientChannel> {
    const key = poolKey(hv);
    const tried = new Set<SshHop>();
    let hop = await this.session(hv);
    let fresh = false;
    for (;;) {
      try {
        return await hop.exec(command);
      } catch (e) {
        const reason = (e as { reason?: unknown }).reason;
        // A connection that refuses its very first channel would refuse them all: stop there.
        if (typeof reason !== "number" || !REFUSED_FOR_NOW.has(reason) || !hop.isOpen || fresh) throw e;
        tried.add(hop);
        ({ hop, fresh } = await this.#nextConnection(key, hv, tried));
      }
    }
  }

  /** An open overflow connection not tried yet, the one being opened, or a new one. */
  async #nextConnection(key: string, hv: HypervisorConfig, tried: Set<SshHop>): Promise<{ hop: SshHop; fresh: boolean }> {
    const list = this.#overflow.get(key) ?? [];
    this.#overflow.set(key, list);
    for (const pending of [...list]) {
      const hop = await pending.catch(() => undefined);
      if (!hop?.isOpen) list.splice(list.indexOf(pending), 1);
      else if (!tried.has(hop)) return { hop, fresh: false };
    }
    // Guests refused at the same moment share the connection one of them is opening.
    const opening = this.#opening.get(key);
    if (opening) {
      const hop = await opening.catch(() => undefined);
      if (hop?.isOpen && !tried.has(hop)) return { hop, fresh: false };
    }
    if (this.#closed) throw new OperationError("closed", `${hypervisorLabel(hv)}: the session pool is closed`);
    this.#io.log({ level: "info", event: "connect-more", hop: hypervisorLabel(hv), detail: `the hypervisor refused another channel (sshd MaxSessions?); opening connection ${list.length + 2}` });
    const created = this.#connect(hv);
    list.push(created);
    this.#opening.set(key, created);
    try {
      return { hop: await created, fresh: true };
    } catch (e) {
      list.splice(list.indexOf(created), 1);
      throw e;
    } finally {
      if (this.#opening.get(key) === created) this.#opening.delete(key);
    }
  }

  /**
   * The live verified session for `hv`. Concurrent callers share one handshake, and its failure:
   * a pending connection is awaited, never duplicated. A session that has died is replaced
   * (once, by the first caller to notice) with a fresh connection that re-verifies the host key.
   */
  async session(hv: HypervisorConfig): Promise<SshHop> {
    const key = poolKey(hv);
    for (;;) {
      if (this.#closed) throw new OperationError("closed", `${hypervisorLabel(hv)}: the session pool is closed`);
      const existing = this.#sessions.get(key);
      if (!existing) return this.#start(key, hv);
      const hop = await existing;
      if (hop.isOpen) return hop;
      // Still the dead one after the await: nobody replaced it yet, so this caller does.
      if (this.#sessions.get(key) === existing) return this.#start(key, hv);
    }
  }

  #start(key: string, hv: HypervisorConfig): Promise<SshHop> {
    const fresh = this.#connect(hv);
    this.#sessions.set(key, fresh);
    fresh.then(
      (hop) => {
        if (this.#closed) return hop.close();
        void hop.closed.then(() => {
          if (!this.#closed) this.#io.log({ level: "warn", event: "session-closed", hop: hop.label, detail: "hypervisor session ended" });
        });
      },
      () => {
        if (this.#sessions.get(key) === fresh) this.#sessions.delete(key);
      },
    );
    return fresh;
  }

  #connect(hv: HypervisorConfig): Promise<SshHop> {
    this.handshakes++;
    return this.#connector(hv, this.#io);
  }

  /** Closes every session; later calls to session() fail, and connections still in progress are closed when they land. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#sessions.values(), ...[...this.#overflow.values()].flat()];
    this.#sessions.clear();
    this.#overflow.clear();
    for (const p of all) (await p.catch(() => undefined))?.close();
  }
}

/** The production connector: the hypervisor's host key policy, then openHop over TCP. */
export async function connectHypervisor(hv: HypervisorConfig, io: EngineIO): Promise<SshHop> {
  const label = hypervisorLabel(hv);
  const policy = await buildHostKeyPolicy(hv.verification, hv.hostname, hv.port, label, io);
  for (const w of policy.warnings) io.log({ level: "warn", event: "known-hosts", hop: label, detail: w });
  io.log({ level: "debug", event: "connect", hop: label, detail: `offering ${policy.algorithms.join(",")}` });
  const hop = await openConfiguredHop(label, hv, { host: hv.hostname!, port: hv.port }, policy, io);
  io.log({ level: "info", event: "verified", hop: label, detail: `${hop.negotiated.serverHostKey} ${policy.fingerprint(hop.hostKey)}` });
  return hop;
}
