// The lab's DNS: a real authoritative BIND (one DNSSEC-signed zone, one unsigned) behind a real
// validating Unbound that also serves DNS-over-TLS with a test CA; loopback only, fresh keys each start.

import { spawn, execFile, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, connect as tcpConnect } from "node:net";
import { createSocket } from "node:dgram";
import { connect as tlsConnect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import dnsPacket, { type DecodedPacket } from "dns-packet";
import { namedConf, unboundConf } from "./dns-conf.ts";

export interface DnsLabRecord {
  /** A label inside the zone (`web1`) or a full name ending in the zone. */
  name: string;
  zone: "signed" | "unsigned";
  sshfp: { algorithm: number; type: number; hex: string }[];
  /** Signed zone only: alter the records after signing, so their signature no longer matches. */
  bogus?: boolean;
}

export interface DnsLab {
  /** The validating resolver over TCP (and UDP): `127.0.0.1:PORT`. */
  resolverTcp: string;
  /** The same resolver over DNS-over-TLS: `127.0.0.1:PORT`. */
  resolverTls: string;
  /** PEM of the CA that signed the resolver's certificate (IP SAN 127.0.0.1, DNS SAN resolver.lab.test). */
  caFile: string;
  /** PEM of an unrelated CA that did not sign the resolver's certificate. */
  wrongCaFile: string;
  /** The resolver certificate's DNS name. */
  tlsName: string;
  signedZone: string;
  unsignedZone: string;
  /** The authoritative server (no validation, never sets AD): `127.0.0.1:PORT`. */
  authoritative: string;
  /** Full name of a record given as a label: `fqdn("web1", "signed")` → `web1.signed.lab.test`. */
  fqdn(name: string, zone: "signed" | "unsigned"): string;
  stop(): Promise<void>;
}

const SIGNED = "signed.lab.test";
const UNSIGNED = "unsigned.lab.test";
const TLS_NAME = "resolver.lab.test";
const READY_TIMEOUT_MS = 15_000;

// Each binary and the Debian package that ships it, so a missing one fails with the fix.
const BINARIES: Record<string, string> = {
  named: "bind9",
  "dnssec-keygen": "bind9-utils",
  "dnssec-signzone": "bind9-utils",
  unbound: "unbound",
  openssl: "openssl",
};

/**
 * Starts BIND and Unbound on free loopback ports with `records` published; call `stop()` when done.
 * Fails (never skips) when a binary is missing or the servers do not come up.
 */
export async function startDnsLab(opts: { records: DnsLabRecord[] }): Promise<DnsLab> {
  const bins = Object.fromEntries(Object.keys(BINARIES).map((b) => [b, findBinary(b)]));
  const dir = await mkdtemp(join(tmpdir(), "ssh2vsock-dns-"));
  const children: { name: string; child: ChildProcess; log: string[] }[] = [];
  const stop = async () => {
    await Promise.all(children.map((c) => killAndWait(c.child)));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [authPort, resolverPort, tlsPort] = await freePorts(3);
    const fqdn = (name: string, zone: "signed" | "unsigned") => {
      const origin = zone === "signed" ? SIGNED : UNSIGNED;
      const n = name.replace(/\.$/, "").toLowerCase();
      return n === origin || n.endsWith(`.${origin}`) ? n : `${n}.${origin}`;
    };
    await Promise.all([
      makeZones(bins, dir, opts.records, fqdn),
      makeCertificates(bins.openssl!, dir),
    ]);
    await writeFile(join(dir, "named.conf"), namedConf(dir, authPort!, SIGNED, UNSIGNED));
    await writeFile(join(dir, "unbound.conf"), unboundConf(dir, authPort!, resolverPort!, tlsPort!, SIGNED, UNSIGNED));
    children.push(launch("named", bins.named!, ["-g", "-n", "1", "-4", "-c", join(dir, "named.conf")]));
    children.push(launch("unbound", bins.unbound!, ["-d", "-c", join(dir, "unbound.conf")]));

    const deadline = Date.now() + READY_TIMEOUT_MS;
    const exited = () => children.find((c) => c.child.exitCode !== null || c.child.signalCode !== null);
    const waitFor = async (what: string, ready: () => Promise<boolean>) => {
      while (!(await ready().catch(() => false))) {
        const dead = exited();
        if (dead) throw new Error(`${dead.name} exited while waiting for ${what}:\n${dead.log.join("")}`);
        if (Date.now() > deadline) throw new Error(`timed out after ${READY_TIMEOUT_MS} ms waiting for ${what}`);
        await sleep(50);
      }
    };
    await waitFor(`named on 127.0.0.1:${authPort}`, async () => (await probe(authPort!, SIGNED)) !== undefined);
    // Ready means validating: the signed zone's SOA comes back with AD.
    await waitFor(`unbound to validate ${SIGNED} on 127.0.0.1:${resolverPort}`, async () => {
      const r = await probe(resolverPort!, SIGNED);
      return r !== undefined && (r.flags! & 0xf) === 0 && (r.flags! & dnsPacket.AUTHENTIC_DATA) !== 0;
    });
    await waitFor(`unbound DNS-over-TLS on 127.0.0.1:${tlsPort}`, () => tlsReady(tlsPort!, join(dir, "ca.pem")));
    return {
      resolverTcp: `127.0.0.1:${resolverPort}`,
      resolverTls: `127.0.0.1:${tlsPort}`,
      caFile: join(dir, "ca.pem"),
      wrongCaFile: join(dir, "wrong-ca.pem"),
      tlsName: TLS_NAME,
      signedZone: SIGNED,
      unsignedZone: UNSIGNED,
      authoritative: `127.0.0.1:${authPort}`,
      fqdn,
      stop,
    };
  } catch (err) {
    const logs = children.map((c) => `--- ${c.name} ---\n${c.log.join("").slice(-4000)}`).join("\n");
    await stop();
    throw new Error(`DNS lab failed to start: ${(err as Error).message}\n${logs}`);
  }
}

function findBinary(name: string): string {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/bin", "/bin"];
  for (const d of dirs) {
    if (d && existsSync(join(d, name))) return join(d, name);
  }
  throw new Error(`DNS lab needs ${name}: install the Debian package ${BINARIES[name]} (apt-get install ${BINARIES[name]})`);
}

function run(file: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(" ")} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

async function makeZones(
  bins: Record<string, string>,
  dir: string,
  records: DnsLabRecord[],
  fqdn: (name: string, zone: "signed" | "unsigned") => string,
): Promise<void> {
  const zoneText = (origin: string, zone: "signed" | "unsigned") =>
    [
      `$TTL 300`,
      `${origin}. IN SOA ns.${origin}. hostmaster.${origin}. 1 3600 600 86400 300`,
      `${origin}. IN NS ns.${origin}.`,
      `ns.${origin}. IN A 127.0.0.1`,
      ...records
        .filter((r) => r.zone === zone)
        .flatMap((r) => r.sshfp.map((s) => `${fqdn(r.name, zone)}. IN SSHFP ${s.algorithm} ${s.type} ${s.hex}`)),
      "",
    ].join("\n");
  await writeFile(join(dir, "unsigned.zone"), zoneText(UNSIGNED, "unsigned"));
  await writeFile(join(dir, "signed.zone"), zoneText(SIGNED, "signed"));
  // Fresh keys every start: a KSK (its DS is the resolver's trust anchor) and a ZSK.
  const keygen = (extra: string[]) =>
    run(bins["dnssec-keygen"]!, ["-q", "-K", dir, "-a", "ECDSAP256SHA256", ...extra, "-n", "ZONE", SIGNED], dir);
  await Promise.all([keygen(["-f", "KSK"]), keygen([])]);
  const signedFile = join(dir, "signed.zone.signed");
  // `-O full` puts each record on one line, so tampering below is a line edit.
  await run(
    bins["dnssec-signzone"]!,
    ["-q", "-S", "-O", "full", "-K", dir, "-d", dir, "-o", SIGNED, "-f", signedFile, join(dir, "signed.zone")],
    dir,
  );
  const bogus = new Set(records.filter((r) => r.zone === "signed" && r.bogus).map((r) => `${fqdn(r.name, "signed")}.`));
  if (bogus.size > 0) {
    const lines = (await readFile(signedFile, "utf8")).split("\n").map((line) => {
      const m = /^(\S+)\s+(\d+)\s+IN\s+SSHFP\s+(\d+)\s+(\d+)\s+(.*)$/.exec(line);
      if (!m || !bogus.has(m[1]!.toLowerCase())) return line;
      const hex = m[5]!.replace(/\s+/g, "");
      const flipped = hex.slice(0, -1) + (hex.endsWith("0") ? "1" : "0");
      return `${m[1]} ${m[2]} IN SSHFP ${m[3]} ${m[4]} ${flipped}`;
    });
    await writeFile(signedFile, lines.join("\n"));
  }
}

async function makeCertificates(openssl: string, dir: string): Promise<void> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  const caExt = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"];
  const ca = (name: string, cn: string) =>
    run(openssl, ["req", "-x509", ...ec, "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=${cn}`, ...caExt], dir);
  await Promise.all([
    ca("ca", "ssh2vsock lab DNS CA"),
    ca("wrong-ca", "ssh2vsock lab unrelated CA"),
    run(openssl, ["req", "-new", ...ec, "-keyout", "resolver.key", "-out", "resolver.csr", "-subj", `/CN=${TLS_NAME}`], dir),
  ]);
  await writeFile(
    join(dir, "resolver.ext"),
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:${TLS_NAME}\n`,
  );
  await run(
    openssl,
    ["x509", "-req", "-in", "resolver.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "resolver.ext", "-out", "resolver.pem"],
    dir,
  );
}

function launch(name: string, file: string, args: string[]) {
  const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"] });
  const log: string[] = [];
  child.stdout!.on("data", (d: Buffer) => log.push(d.toString()));
  child.stderr!.on("data", (d: Buffer) => log.push(d.toString()));
  child.on("error", (err) => log.push(`spawn failed: ${err.message}\n`));
  return { name, child, log };
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const gone = new Promise<void>((res) => child.once("exit", () => res()));
  process.kill(child.pid, "SIGTERM");
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, "SIGKILL");
  }, 3000);
  await gone;
  clearTimeout(timer);
}

/** Free loopback ports, each free for both TCP and UDP (both servers listen on both). */
async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const server = createServer();
    await new Promise<void>((res, rej) => server.once("error", rej).listen(0, "127.0.0.1", res));
    const port = (server.address() as { port: number }).port;
    const udp = createSocket("udp4");
    const udpFree = await new Promise<boolean>((res) => {
      udp.once("error", () => res(false));
      udp.bind(port, "127.0.0.1", () => res(true));
    });
    await new Promise<void>((res) => server.close(() => res()));
    if (udpFree) await new Promise<void>((res) => udp.close(() => res()));
    if (udpFree && !ports.includes(port)) ports.push(port);
  }
  return ports;
}

/** One SOA query over TCP; the decoded answer, or undefined when nothing usable came back. */
function probe(port: number, name: string): Promise<DecodedPacket | undefined> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    const finish = (value: DecodedPacket | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => finish(undefined), 1000);
    socket.on("error", () => finish(undefined));
    socket.on("connect", () =>
      socket.write(
        dnsPacket.streamEncode({
          type: "query",
          id: 1,
          flags: dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA,
          questions: [{ type: "SOA", name }],
          additionals: [{ type: "OPT", name: ".", udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: dnsPacket.DNSSEC_OK, flag_do: true, options: [] }],
        }),
      ),
    );
    socket.on("data", (d: Buffer) => {
      chunks.push(d);
      const all = Buffer.concat(chunks);
      if (all.length >= 2 && all.length >= 2 + all.readUInt16BE(0)) {
        try {
          finish(dnsPacket.decode(all.subarray(2, 2 + all.readUInt16BE(0))));
        } catch {
          finish(undefined);
        }
      }
    });
    socket.on("close", () => finish(undefined));
  });
}

async function tlsReady(port: number, caFile: string): Promise<boolean> {
  const ca = await readFile(caFile, "utf8");
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, ca, servername: TLS_NAME });
    const timer = setTimeout(() => done(false), 1000);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    socket.once("secureConnect", () => done(true));
    socket.once("error", () => done(false));
  });
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
