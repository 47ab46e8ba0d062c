// One SSHFP query over TCP or DNS-over-TLS with the DO bit, accepted only when its ID and
// question match, its rcode is NOERROR and the resolver set AD (DNSSEC-validated).

import { randomInt } from "node:crypto";
import type { Duplex } from "node:stream";
import dnsPacket from "dns-packet";
import { HostKeyError } from "../errors.ts";
import { decodeMessage, readName, type RawMessage, type RawRecord } from "./_message.ts";
import { formatResolverAddress, parseResolverAddress, type ResolverAddress } from "./resolver-address.ts";
import { decodeSshfpRdata, SSHFP_TYPE, type SshfpRdata } from "./sshfp-rdata.ts";
import { nodeDnsDialer, type DnsDialer } from "./transport.ts";

export interface SshfpQueryOptions {
  /** When set, the query goes over DNS-over-TLS, trusting only the CAs in this PEM file. */
  caFile?: string;
  /** Name to find in the resolver's certificate instead of its IP address (`dns_tls_name`). */
  tlsName?: string;
  /** Whole-exchange deadline: connect, TLS, query and answer. Default 5000. */
  timeoutMs?: number;
  dialer?: DnsDialer;
  /** Cancels the query (the caller's own shutdown); rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** A validated answer: the SSHFP records of the name (possibly none: NODATA). */
export interface SshfpAnswer {
  /** The name asked for, without a trailing dot. */
  name: string;
  /** The resolver as written in messages: `127.0.0.1:53`. */
  resolver: string;
  tls: boolean;
  records: SshfpRdata[];
  /** Records that could not be read (too short), skipped rather than fatal. */
  warnings: string[];
}

const CLASS_IN = 1;
const CNAME_TYPE = 5;
const RCODES: Record<number, string> = { 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED" };

/**
 * Asks `resolver` for the SSHFP records of `name`; throws HostKeyError (exit 3) on every
 * failure, including an answer the resolver did not DNSSEC-validate.
 * @example await querySshfp("web1.example.com", "127.0.0.1:53") // { records: [{ algorithm: 4, fingerprintType: 2, … }], … }
 */
export async function querySshfp(
  name: string,
  resolver: string | ResolverAddress,
  opts: SshfpQueryOptions = {},
): Promise<SshfpAnswer> {
  const qname = checkName(name);
  const addr = typeof resolver === "string" ? parseResolverAddress(resolver) : resolver;
  const label = formatResolverAddress(addr);
  const tls = opts.caFile !== undefined;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const id = randomInt(0, 0x10000);
  const query = dnsPacket.streamEncode({
    type: "query",
    id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA,
    questions: [{ type: "SSHFP", name: qname, class: "IN" }],
    additionals: [
      {
        type: "OPT",
        name: ".",
        udpPayloadSize: 4096,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: dnsPacket.DNSSEC_OK,
        flag_do: true,
        options: [],
      },
    ],
  });

  const controller = new AbortController();
  const timeout = new HostKeyError(
    "dns-timeout",
    `DNS resolver ${label} did not answer within ${seconds(timeoutMs)} s`,
    { hint: `check that a DNS resolver listens on ${label} over ${tls ? "TLS" : "TCP"} and can reach the zone of ${qname}` },
  );
  const timer = setTimeout(() => controller.abort(timeout), timeoutMs);
  const onOuterAbort = () => controller.abort(opts.signal!.reason);
  opts.signal?.addEventListener("abort", onOuterAbort, { once: true });
  if (opts.signal?.aborted) onOuterAbort();
  let stream: Duplex | undefined;
  let wire: Buffer;
  try {
    const dialer = opts.dialer ?? nodeDnsDialer;
    const tlsOpts = tls ? { caFile: opts.caFile!, servername: opts.tlsName } : undefined;
    stream = await dialer.connect(addr, { tls: tlsOpts, signal: controller.signal });
    stream.write(query);
    wire = await readFrame(stream, controller.signal, label);
  } catch (err) {
    // A dialer may reject with its own abort error; the deadline is what the user needs to know.
    if (controller.signal.aborted) throw controller.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onOuterAbort);
    // One query per connection; late errors from the closing stream no longer matter.
    stream?.on("error", () => {});
    stream?.destroy();
  }
  return checkAnswer(wire, { id, qname, label, tls });
}

function seconds(ms: number): string {
  return String(Number((ms / 1000).toFixed(3)));
}

function checkName(name: string): string {
  const qname = name.replace(/\.$/, "");
  const labels = qname.split(".");
  if (qname.length === 0 || qname.length > 253 || labels.some((l) => !/^[A-Za-z0-9_-]{1,63}$/.test(l))) {
    throw new HostKeyError("dns-name", `cannot look up SSHFP for "${name}": not a DNS host name`, {
      hint: "use_sshfp needs the guest's DNS name in hostname",
    });
  }
  return qname;
}

/** Reads exactly one length-prefixed message (RFC 7766 §8), however the bytes are chunked. */
function readFrame(stream: Duplex, signal: AbortSignal, label: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const done = (fn: () => void) => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("close", onEnd);
      stream.off("error", onError);
      signal.removeEventListener("abort", onAbort);
      fn();
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      if (have < 2) return;
      const all = Buffer.concat(chunks);
      const length = all.readUInt16BE(0);
      if (length === 0) return done(() => reject(malformed(label, "a zero-length message")));
      if (have >= 2 + length) done(() => resolve(all.subarray(2, 2 + length)));
    };
    const onEnd = () =>
      done(() =>
        reject(
          have === 0
            ? new HostKeyError("dns-closed", `DNS resolver ${label} closed the connection without answering`, {
                hint: `check that ${label} is a DNS resolver that answers over TCP or TLS`,
              })
            : malformed(label, `the connection closed after ${have} bytes of a framed message`),
        ),
      );
    const onError = (err: Error) =>
      done(() =>
        reject(
          new HostKeyError("dns-closed", `connection to DNS resolver ${label} failed: ${err.message}`, {
            hint: `check that ${label} is a DNS resolver that answers over TCP or TLS`,
            cause: err,
          }),
        ),
      );
    const onAbort = () => done(() => reject(signal.reason));
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("close", onEnd);
    stream.on("error", onError);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function malformed(label: string, why: string, cause?: unknown): HostKeyError {
  return new HostKeyError("dns-malformed", `DNS resolver ${label} sent a malformed answer: ${why}`, {
    hint: `check that ${label} is a DNS resolver`,
    cause,
  });
}

interface Expect {
  id: number;
  qname: string;
  label: string;
  tls: boolean;
}

function checkAnswer(wire: Buffer, want: Expect): SshfpAnswer {
  const { label, qname } = want;
  let msg: RawMessage;
  try {
    msg = decodeMessage(wire);
  } catch (err) {
    throw malformed(label, (err as Error).message, err);
  }
  if (!msg.qr || msg.opcode !== 0) throw malformed(label, "not a response to a standard query");
  const mismatch = (why: string) =>
    new HostKeyError("dns-mismatch", `DNS resolver ${label} answered a different query: ${why}`, {
      hint: "something between ssh2vsock and the resolver is rewriting DNS; use DNS-over-TLS (ca_file)",
    });
  if (msg.id !== want.id) throw mismatch(`ID ${msg.id}, expected ${want.id}`);
  const q = msg.questions[0];
  if (msg.questions.length === 0 && msg.rcode !== 0) throw rcodeError(msg.rcode, label, qname);
  if (msg.questions.length !== 1 || !q) throw mismatch(`${msg.questions.length} questions, expected 1`);
  if (q.name.toLowerCase() !== qname.toLowerCase() || q.type !== SSHFP_TYPE || q.class !== CLASS_IN) {
    throw mismatch(`question "${q.name}" type ${q.type} class ${q.class}, expected "${qname}" SSHFP IN`);
  }
  if (msg.rcode !== 0) throw rcodeError(msg.rcode, label, qname);
  if (msg.tc) throw malformed(label, "the answer is truncated (TC) even over a stream");
  if (!msg.ad) {
    throw new HostKeyError(
      "dns-not-validated",
      `the SSHFP answer for ${qname} from DNS resolver ${label} was not DNSSEC-validated (AD bit not set)`,
      {
        hint: "sign the zone with DNSSEC and use a validating resolver you trust; unsigned SSHFP records are never trusted",
      },
    );
  }
  // Owners: the name itself and any CNAME targets the (validated) answer leads to.
  const owners = new Set([qname.toLowerCase()]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const rr of msg.answers) {
      if (rr.type !== CNAME_TYPE || rr.class !== CLASS_IN || !owners.has(rr.name.toLowerCase())) continue;
      const target = cnameTarget(wire, rr);
      if (target && !owners.has(target)) {
        owners.add(target);
        grew = true;
      }
    }
  }
  const records: SshfpRdata[] = [];
  const warnings: string[] = [];
  for (const rr of msg.answers) {
    if (rr.type !== SSHFP_TYPE || rr.class !== CLASS_IN || !owners.has(rr.name.toLowerCase())) continue;
    try {
      records.push(decodeSshfpRdata(rr.rdata));
    } catch (err) {
      warnings.push(`SSHFP ${qname} via ${label}: skipped a record: ${(err as Error).message}`);
    }
  }
  return { name: qname, resolver: label, tls: want.tls, records, warnings };
}

function cnameTarget(wire: Buffer, rr: RawRecord): string | undefined {
  // CNAME RDATA may use compression pointers into the message, so decode it in place.
  try {
    return readName(wire, rr.rdataOffset)[0].toLowerCase();
  } catch {
    return undefined;
  }
}

function rcodeError(rcode: number, label: string, qname: string): HostKeyError {
  const name = RCODES[rcode] ?? `rcode ${rcode}`;
  const why: Record<string, [string, string]> = {
    SERVFAIL: [
      "the resolver could not resolve or validate the name",
      "a DNSSEC validation failure (bad or expired signatures) looks like this; check the zone's signatures and the resolver's log",
    ],
    NXDOMAIN: ["the name does not exist", `check the guest's hostname: ${qname} is not in DNS`],
    REFUSED: ["the resolver refused the query", `check that ${label} serves this client and this zone`],
  };
  const [text, hint] = why[name] ?? ["the query failed", `check the DNS resolver ${label}`];
  return new HostKeyError("dns-rcode", `DNS resolver ${label} answered ${name} for SSHFP ${qname}: ${text}`, { hint });
}
