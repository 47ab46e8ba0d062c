// Records real SSH handshakes: a node:net relay between a real client and a real server keeps
// every chunk of both directions in the order it passed, tagged with who sent it.
import { createConnection, createServer, type Socket } from "node:net";
import { tool, type ClientResult, type HandshakeLab, type KeyKind, type LabKey, type Server } from "./_handshake-lab.ts";
import { findReply, type Chunk } from "./_handshake-wire.ts";
import { inBatches } from "../lab/_system.ts";

export interface Recording {
  /** `openssh→openssh curve25519-sha256 ssh-ed25519` */
  name: string;
  client: "openssh" | "dropbear";
  server: "openssh" | "dropbear";
  /** The negotiated methods as the client (ssh -v) or sshd's log reported them: the oracle. */
  kex: string;
  hostKeyAlgorithm: string;
  chunks: Chunk[];
  /** The server's host keys (the one it presents is the one of `hostKeyAlgorithm`'s kind). */
  serverKeys: Record<KeyKind, LabKey>;
  result: ClientResult;
}

/** The key kind that serves a host key algorithm. */
export function kindOf(algorithm: string): KeyKind {
  if (algorithm === "ssh-ed25519") return "ed25519";
  if (algorithm.startsWith("ecdsa-")) return "ecdsa";
  if (algorithm === "ssh-rsa" || algorithm.startsWith("rsa-sha2-")) return "rsa";
  throw new Error(`no lab key serves ${algorithm}`);
}

/** A relay on a free port for exactly one connection to `upstream`; resolves with its chunks once both sides closed. */
export async function recordingRelay(upstream: number): Promise<{ port: number; chunks: Promise<Chunk[]>; close(): void }> {
  const chunks: Chunk[] = [];
  const sockets: Socket[] = [];
  let done!: (c: Chunk[]) => void;
  const finished = new Promise<Chunk[]>((r) => (done = r));
  const server = createServer((client) => {
    server.close();
    const guest = createConnection({ host: "127.0.0.1", port: upstream });
    sockets.push(client, guest);
    let closed = 0;
    const onClose = () => {
      if (++closed === 2) done(chunks);
    };
    // Each side's end ends the other's write half, so half-closes pass as they would.
    const wire = (from: Socket, to: Socket, who: Chunk["from"]) => {
      from.on("data", (data: Buffer) => {
        chunks.push({ from: who, data: Buffer.from(data) });
        to.write(data);
      });
      from.on("end", () => to.end());
      from.on("error", () => to.destroy());
      from.on("close", onClose);
    };
    wire(client, guest, "client");
    wire(guest, client, "server");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    chunks: finished,
    close: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

/** Arguments for the OpenSSH client: no config, no known_hosts, the lab's client key. */
export function sshArgs(lab: HandshakeLab, port: number, opts: { kex?: string; hostKeyAlgorithms?: string; extra?: string[] }, command: string[]): string[] {
  return [
    "-v",
    "-F", "/dev/null",
    "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "IdentitiesOnly=yes",
    "-o", "ConnectTimeout=20",
    ...(opts.kex ? ["-o", `KexAlgorithms=${opts.kex}`] : []),
    ...(opts.hostKeyAlgorithms ? ["-o", `HostKeyAlgorithms=${opts.hostKeyAlgorithms}`] : []),
    ...(opts.extra ?? []),
    "-i", lab.clientKey.path,
    "-p", String(port),
    "root@127.0.0.1",
    ...command,
  ];
}

const negotiatedIn = (log: string) => ({
  kex: /kex: algorithm: (\S+)/.exec(log)?.[1],
  hostKey: /kex: host key algorithm: (\S+)/.exec(log)?.[1],
});

/** The relay's chunks once both its sockets closed; [] (and a loud failure in finish) if they hang. */
async function settled(chunks: Promise<Chunk[]>): Promise<Chunk[]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<Chunk[]>((r) => (timer = setTimeout(() => r([]), 5000)));
  try {
    return await Promise.race([chunks, late]);
  } finally {
    clearTimeout(timer);
  }
}

function finish(rec: Omit<Recording, "chunks">, chunks: Chunk[]): Recording {
  const recording = { ...rec, chunks };
  // A recording without the server's reply would make every later assertion vacuous.
  try {
    findReply(recording);
  } catch (e) {
    throw new Error(`${rec.name}: the recording holds no key exchange reply (${(e as Error).message}); client said:\n${rec.result.stderr}`);
  }
  return recording;
}

/**
 * Runs the OpenSSH client once through a recording relay to `server`. Against sshd it must log in
 * with the lab's client key and run `true`; dropbear only reads root's own authorized_keys, so
 * there it offers no key and is denied after the handshake.
 */
export async function recordOpenSsh(
  lab: HandshakeLab,
  server: Server,
  serverKind: Recording["server"],
  opts: Pairing,
): Promise<Recording> {
  const relay = await recordingRelay(server.port);
  const login = serverKind === "openssh";
  const extra = login ? [] : ["-o", "PubkeyAuthentication=no"];
  const result = await lab.run(tool("ssh"), sshArgs(lab, relay.port, { ...opts, extra }, ["true"]));
  const chunks = await settled(relay.chunks);
  relay.close();
  const name = `openssh→${serverKind} ${opts.kex} ${opts.hostKeyAlgorithms}`;
  const ok = login ? result.code === 0 : result.code === 255 && /Permission denied/.test(result.stderr);
  if (!ok) throw new Error(`${name}: ssh ended unexpectedly (${result.code}):\n${result.stderr}`);
  const n = negotiatedIn(result.stderr);
  if (!n.kex || !n.hostKey) throw new Error(`${name}: ssh -v did not name the negotiated methods:\n${result.stderr}`);
  return finish({ name, client: "openssh", server: serverKind, kex: n.kex, hostKeyAlgorithm: n.hostKey, serverKeys: server.keys, result }, chunks);
}

/** Runs dbclient once through a recording relay to an OpenSSH `server` (run one at a time: sshd's log is the oracle). */
export async function recordDbclient(lab: HandshakeLab, server: Server): Promise<Recording> {
  const relay = await recordingRelay(server.port);
  const before = server.log().length;
  const result = await lab.run(tool("dbclient"), ["-y", "-y", "-i", lab.clientKeyDropbear, "-p", String(relay.port), "root@127.0.0.1", "true"]);
  const chunks = await settled(relay.chunks);
  relay.close();
  const name = "dropbear→openssh (dbclient defaults)";
  if (result.code !== 0) throw new Error(`${name}: dbclient failed (${result.code}):\n${result.stderr}`);
  const n = negotiatedIn(server.log().slice(before));
  if (!n.kex || !n.hostKey) throw new Error(`${name}: sshd's log does not name the negotiated methods:\n${server.log().slice(before)}`);
  return finish({ name, client: "dropbear", server: "openssh", kex: n.kex, hostKeyAlgorithm: n.hostKey, serverKeys: server.keys, result }, chunks);
}

/** The kex methods recorded against OpenSSH; mlkem768x25519-sha256 joins when this ssh has it. */
export async function recordedKexMethods(lab: HandshakeLab): Promise<string[]> {
  const methods = [
    "curve25519-sha256",
    "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384",
    "diffie-hellman-group14-sha256",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group-exchange-sha256",
    "sntrup761x25519-sha512@openssh.com",
  ];
  const q = await lab.run(tool("ssh"), ["-Q", "kex"]);
  if (q.stdout.split("\n").includes("mlkem768x25519-sha256")) methods.push("mlkem768x25519-sha256");
  return methods;
}

export const HOST_KEY_ALGORITHMS = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256"];

/** What the OpenSSH client is limited to (-o KexAlgorithms, -o HostKeyAlgorithms). */
export interface Pairing {
  kex: string;
  hostKeyAlgorithms: string;
}

/** Every kex × host key algorithm. */
export const cross = (kex: string[], hostKeyAlgorithms: string[]): Pairing[] => kex.flatMap((k) => hostKeyAlgorithms.map((h) => ({ kex: k, hostKeyAlgorithms: h })));

export interface RecordSet {
  /** OpenSSH client → sshd. */
  openssh: Pairing[];
  /** OpenSSH client → dropbear. */
  dropbearServer?: Pairing[];
  /** dbclient → sshd with its defaults. */
  dbclient?: boolean;
  /** OpenSSH client offering only SHA-1 ssh-rsa → sshd that still allows it. */
  sshRsa?: boolean;
}

/** Starts the servers a set needs, records it, and stops the servers again (the lab's stop() is the backstop). */
export async function recordSet(lab: HandshakeLab, set: RecordSet): Promise<Recording[]> {
  // +ssh-rsa only adds SHA-1 RSA at the end of sshd's list: other clients negotiate as before.
  const sshd = await lab.startSshd(set.sshRsa ? ["HostKeyAlgorithms +ssh-rsa", "PubkeyAcceptedAlgorithms +ssh-rsa"] : []);
  const dropbear = set.dropbearServer ? await lab.startDropbear().catch(async (e) => (await lab.stopServer(sshd), Promise.reject(e))) : undefined;
  const jobs = [
    ...set.openssh.map((o) => () => recordOpenSsh(lab, sshd, "openssh", o)),
    ...(set.sshRsa ? [() => recordOpenSsh(lab, sshd, "openssh", { kex: "curve25519-sha256", hostKeyAlgorithms: "ssh-rsa" })] : []),
    ...(dropbear ? set.dropbearServer!.map((o) => () => recordOpenSsh(lab, dropbear, "dropbear", o)) : []),
  ];
  try {
    const out = await inBatches(jobs);
    // dbclient's methods are read from sshd's log, so it runs alone.
    if (set.dbclient) out.push(await recordDbclient(lab, sshd));
    return out;
  } finally {
    // Also on failure: a test file whose top-level await throws never runs its after() hooks.
    await lab.stopServer(sshd);
    if (dropbear) await lab.stopServer(dropbear);
  }
}
