import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Duplex } from "node:stream";
import dnsPacket, { type DecodedPacket } from "dns-packet";
import { HostKeyError } from "../../src/core/errors.ts";
import { querySshfp } from "../../src/core/dns/query.ts";
import { sshfpTrust } from "../../src/core/dns/sshfp.ts";
import type { DnsDialer } from "../../src/core/dns/transport.ts";
import {
  buildMessage,
  FLAG_QR,
  FLAG_RA,
  FLAG_RD,
  frame,
  sshfpRdata,
  startFakeDns,
  TYPE_CNAME,
  TYPE_SSHFP,
  encodeName,
  type FakeMessage,
  type FakeReply,
} from "../lab/dns-fake.ts";

const NAME = "web1.example.com";
const ed25519 = Buffer.alloc(32, 0x11);
const ecdsa = Buffer.alloc(32, 0x33);

/** A correct, validated answer to `q` carrying `records`, overridable field by field. */
function answer(q: DecodedPacket, over: Partial<FakeMessage> = {}): Buffer {
  return buildMessage({
    id: q.id!,
    question: { name: q.questions![0]!.name },
    answers: [{ type: TYPE_SSHFP, rdata: sshfpRdata(4, 2, ed25519) }],
    ...over,
  });
}

/** Runs one query against a fake server scripted by `reply`. */
async function withFake<T>(reply: (q: DecodedPacket) => FakeReply, run: (address: string) => Promise<T>) {
  const fake = await startFakeDns(reply);
  try {
    return { result: await run(fake.address), fake };
  } finally {
    await fake.close();
  }
}

function rejectsWith(code: string, message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof HostKeyError, `expected HostKeyError, got ${String(err)}`);
    assert.equal(err.exitCode, 3);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    assert.ok(err.hint && err.hint.length > 0, "has a hint");
    return true;
  };
}

test("sends one SSHFP IN query with EDNS0 DO, AD and RD set and a random ID", async () => {
  const { result, fake } = await withFake(
    (q) => ({ chunks: [frame(answer(q))] }),
    async (addr) => [await querySshfp(NAME, addr), await querySshfp(NAME, addr)],
  );
  assert.equal(fake.queries.length, 2);
  for (const q of fake.queries) {
    assert.deepEqual(q.questions, [{ name: NAME, type: "SSHFP", class: "IN" }]);
    assert.ok(q.flags! & dnsPacket.AUTHENTIC_DATA, "AD requested");
    assert.ok(q.flags! & dnsPacket.RECURSION_DESIRED, "RD set");
    const opt = q.additionals!.find((a) => a.type === "OPT") as dnsPacket.OptAnswer | undefined;
    assert.ok(opt, "has an OPT record");
    assert.ok(opt.flags & dnsPacket.DNSSEC_OK, "DO bit set");
  }
  assert.notEqual(fake.queries[0]!.id, fake.queries[1]!.id);
  assert.deepEqual(result[0]!.records, [{ algorithm: 4, fingerprintType: 2, fingerprint: ed25519 }]);
  assert.equal(result[0]!.resolver, fake.address);
  assert.equal(result[0]!.tls, false);
});

test("accepts a correct answer split across several TCP chunks", async () => {
  const { result } = await withFake(
    (q) => {
      const wire = frame(answer(q, { answers: [
        { type: TYPE_SSHFP, rdata: sshfpRdata(3, 2, ecdsa) },
        { type: TYPE_SSHFP, rdata: sshfpRdata(4, 2, ed25519) },
      ] }));
      // First byte of the length alone, then the rest in uneven pieces.
      return { chunks: [wire.subarray(0, 1), wire.subarray(1, 7), wire.subarray(7, 40), wire.subarray(40)], pauseMs: 20 };
    },
    (addr) => querySshfp(NAME, addr),
  );
  assert.deepEqual(result.records.map((r) => r.algorithm), [3, 4]);
});

test("ignores bytes after the one framed response", async () => {
  const { result } = await withFake(
    (q) => ({ chunks: [Buffer.concat([frame(answer(q)), Buffer.from([0xff, 0xff, 1, 2, 3])])] }),
    (addr) => querySshfp(NAME, addr),
  );
  assert.equal(result.records.length, 1);
});

test("matches the question name case-insensitively", async () => {
  const { result } = await withFake(
    (q) => ({ chunks: [frame(answer(q, { question: { name: "WeB1.Example.COM" } }))] }),
    (addr) => querySshfp(`${NAME}.`, addr),
  );
  assert.equal(result.records.length, 1);
});

test("returns no records for a validated NODATA answer", async () => {
  const { result } = await withFake(
    (q) => ({ chunks: [frame(answer(q, { answers: [] }))] }),
    (addr) => querySshfp(NAME, addr),
  );
  assert.deepEqual(result.records, []);
});

test("follows a CNAME inside the validated answer and ignores SSHFP records of other names", async () => {
  const { result } = await withFake(
    (q) => ({ chunks: [frame(answer(q, { answers: [
      { type: TYPE_CNAME, rdata: encodeName("real.example.com") },
      { name: "real.example.com", type: TYPE_SSHFP, rdata: sshfpRdata(3, 2, ecdsa) },
      { name: "other.example.com", type: TYPE_SSHFP, rdata: sshfpRdata(4, 2, ed25519) },
    ] }))] }),
    (addr) => querySshfp(NAME, addr),
  );
  assert.deepEqual(result.records, [{ algorithm: 3, fingerprintType: 2, fingerprint: ecdsa }]);
});

const refusals: [string, (q: DecodedPacket) => FakeReply, string, RegExp][] = [
  ["a wrong ID", (q) => ({ chunks: [frame(answer(q, { id: (q.id! + 1) & 0xffff }))] }), "dns-mismatch", /different query: ID \d+, expected \d+/],
  ["a wrong question name", (q) => ({ chunks: [frame(answer(q, { question: { name: "evil.example.com" } }))] }), "dns-mismatch", /question "evil.example.com"/],
  ["a wrong question type", (q) => ({ chunks: [frame(answer(q, { question: { name: NAME, type: 1 } }))] }), "dns-mismatch", /type 1 class 1, expected/],
  ["a wrong question class", (q) => ({ chunks: [frame(answer(q, { question: { name: NAME, class: 3 } }))] }), "dns-mismatch", /class 3/],
  ["no question", (q) => ({ chunks: [frame(answer(q, { question: undefined, answers: [] }))] }), "dns-mismatch", /0 questions/],
  ["no AD bit", (q) => ({ chunks: [frame(answer(q, { flags: FLAG_QR | FLAG_RD | FLAG_RA }))] }), "dns-not-validated", /was not DNSSEC-validated \(AD bit not set\)/],
  ["SERVFAIL", (q) => ({ chunks: [frame(answer(q, { rcode: 2, answers: [] }))] }), "dns-rcode", /answered SERVFAIL for SSHFP web1.example.com/],
  ["REFUSED", (q) => ({ chunks: [frame(answer(q, { rcode: 5, answers: [] }))] }), "dns-rcode", /answered REFUSED .*refused the query/],
  ["NXDOMAIN", (q) => ({ chunks: [frame(answer(q, { rcode: 3, answers: [] }))] }), "dns-rcode", /answered NXDOMAIN .*does not exist/],
  ["FORMERR without a question", (q) => ({ chunks: [frame(answer(q, { rcode: 1, question: undefined, answers: [] }))] }), "dns-rcode", /answered FORMERR/],
  ["a query instead of a response", (q) => ({ chunks: [frame(answer(q, { flags: FLAG_RD }))] }), "dns-malformed", /not a response/],
  ["garbage", () => ({ chunks: [frame(Buffer.from("this is not DNS at all, not even close"))] }), "dns-malformed", /malformed answer/],
  ["a record running past the end", (q) => ({ chunks: [frame(answer(q).subarray(0, -5))] }), "dns-malformed", /runs past the end/],
  ["a zero-length frame", () => ({ chunks: [Buffer.from([0, 0])] }), "dns-malformed", /zero-length/],
  ["half a frame, then close", (q) => ({ chunks: [frame(answer(q)).subarray(0, 20), Buffer.alloc(0)] }), "dns-malformed", /closed after 20 bytes/],
];

for (const [what, reply, code, message] of refusals) {
  test(`refuses an answer with ${what}`, async () => {
    const fake = await startFakeDns((q) => {
      const r = reply(q);
      // An empty last chunk stands for "then close the connection".
      if (r !== "silent" && r.chunks.at(-1)?.length === 0) {
        setTimeout(() => void fake.close(), 50);
        return { chunks: r.chunks.slice(0, -1) };
      }
      return r;
    });
    try {
      await assert.rejects(querySshfp(NAME, fake.address, { timeoutMs: 2000 }), rejectsWith(code, message));
    } finally {
      await fake.close();
    }
  });
}

test("gives up on a resolver that never answers, saying how long it waited", async () => {
  const fake = await startFakeDns(() => "silent");
  try {
    const started = Date.now();
    await assert.rejects(
      querySshfp(NAME, fake.address, { timeoutMs: 300 }),
      rejectsWith("dns-timeout", new RegExp(`^DNS resolver ${fake.address} did not answer within 0.3 s$`)),
    );
    assert.ok(Date.now() - started < 2000, "does not hang");
  } finally {
    await fake.close();
  }
});

test("says the default timeout is 5 s", { timeout: 15000 }, async () => {
  const never: DnsDialer = { connect: (_a, { signal }) => new Promise((_r, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")))) };
  const started = Date.now();
  await assert.rejects(querySshfp(NAME, "127.0.0.1:53", { dialer: never }), rejectsWith("dns-timeout", /^DNS resolver 127.0.0.1:53 did not answer within 5 s$/));
  assert.ok(Date.now() - started >= 4900);
});

test("reports a refused connection as an unreachable resolver", async () => {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((res) => server.close(() => res()));
  await assert.rejects(querySshfp(NAME, `127.0.0.1:${port}`), rejectsWith("dns-unreachable", /cannot reach DNS resolver 127.0.0.1:\d+: connection refused/));
});

test("reports a resolver that closes without answering", async () => {
  const server = createServer((s) => s.end());
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  const port = (server.address() as { port: number }).port;
  try {
    await assert.rejects(querySshfp(NAME, `127.0.0.1:${port}`), rejectsWith("dns-closed", /closed the connection without answering/));
  } finally {
    server.close();
  }
});

test("refuses an unreadable or non-PEM ca_file before connecting", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ssh2vsock-dns-ca-"));
  try {
    writeFileSync(join(dir, "empty.pem"), "not a certificate\n");
    await assert.rejects(
      querySshfp(NAME, "127.0.0.1:853", { caFile: join(dir, "missing.pem") }),
      rejectsWith("dns-ca-file", /^cannot read ca_file .*missing.pem/),
    );
    await assert.rejects(
      querySshfp(NAME, "127.0.0.1:853", { caFile: join(dir, "empty.pem") }),
      rejectsWith("dns-ca-file", /holds no PEM certificate/),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("refuses a ca_file whose PEM block is not a certificate", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ssh2vsock-dns-ca-"));
  writeFileSync(join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n");
  const fake = await startFakeDns((q) => ({ chunks: [frame(answer(q))] }));
  try {
    await assert.rejects(
      querySshfp(NAME, fake.address, { caFile: join(dir, "ca.pem"), timeoutMs: 2000 }),
      rejectsWith("dns-ca-file", /certificate 1 cannot be read/),
    );
    assert.equal(fake.queries.length, 0, "no plain DNS query was sent");
  } finally {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("fails the TLS handshake with a resolver that speaks plain DNS, never falling back", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ssh2vsock-dns-ca-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", join(dir, "ca.key"), "-out", join(dir, "ca.pem"), "-days", "1", "-subj", "/CN=test CA"], { stdio: "ignore" });
  // A plain-DNS server that talks first: whatever it says is not a TLS handshake.
  const plain = createServer((s) => {
    s.on("error", () => {});
    s.end(frame(buildMessage({ id: 1, question: { name: NAME } })));
  });
  await new Promise<void>((res) => plain.listen(0, "127.0.0.1", res));
  const address = `127.0.0.1:${(plain.address() as { port: number }).port}`;
  try {
    await assert.rejects(
      querySshfp(NAME, address, { caFile: join(dir, "ca.pem"), timeoutMs: 2000 }),
      rejectsWith("dns-tls-certificate", new RegExp(`^TLS with DNS resolver ${address} failed: `)),
    );
  } finally {
    plain.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("refuses to look up a name that is not a DNS host name", async () => {
  for (const bad of ["", "web 1.example.com", "a..b", `${"x".repeat(64)}.com`]) {
    await assert.rejects(querySshfp(bad, "127.0.0.1:53"), rejectsWith("dns-name", /not a DNS host name/));
  }
});

test("passes ca_file and dns_tls_name to the dialer and labels the answer as TLS", async () => {
  let seen: unknown;
  const dialer: DnsDialer = {
    async connect(addr, opts) {
      seen = { addr, tls: opts.tls };
      // An in-memory resolver: answers the one framed query it is sent.
      const stream: Duplex = new Duplex({
        read() {},
        write(chunk: Buffer, _encoding, done) {
          stream.push(frame(answer(dnsPacket.decode(chunk.subarray(2)))));
          done();
        },
      });
      return stream;
    },
  };
  const trust = await sshfpTrust(NAME, "[::1]:853", { caFile: "/ca.pem", tlsName: "dns.example.net", dialer });
  assert.deepEqual(seen, {
    addr: { host: "::1", port: 853, family: 6 },
    tls: { caFile: "/ca.pem", servername: "dns.example.net" },
  });
  assert.deepEqual(trust.fingerprints, [
    { algorithm: 4, sha256: ed25519, source: "SSHFP web1.example.com via [::1]:853 over TLS (DNSSEC)" },
  ]);
});

const trustCases: [string, Buffer[], { keep?: number[]; error?: RegExp; warnings?: RegExp[] }][] = [
  ["keeps SHA-256 records and names the source", [sshfpRdata(4, 2, ed25519), sshfpRdata(3, 2, ecdsa)], { keep: [4, 3] }],
  [
    "skips SHA-1, DSA and Ed448 records with warnings",
    [sshfpRdata(4, 1, Buffer.alloc(20)), sshfpRdata(2, 2, ed25519), sshfpRdata(6, 2, ed25519), sshfpRdata(1, 2, ed25519)],
    { keep: [1], warnings: [/SHA-1/, /DSA/, /algorithm 6/] },
  ],
  ["keeps algorithm 3 after a type-3 record", [sshfpRdata(3, 3, Buffer.alloc(48, 7)), sshfpRdata(3, 2, ecdsa)], { keep: [3], warnings: [/unknown fingerprint type 3/] }],
  ["refuses an SHA-1-only set", [sshfpRdata(4, 1, Buffer.alloc(20)), sshfpRdata(1, 1, Buffer.alloc(20))], { error: /^SSHFP for web1.example.com has only SHA-1 fingerprints; ssh2vsock trusts SHA-256 \(type 2\) only$/ }],
  ["refuses a set with no records", [], { error: /^no SSHFP records for web1.example.com \(SSHFP web1.example.com via 127.0.0.1:\d+ \(DNSSEC\)\)$/ }],
  ["refuses a set with only unusable records", [sshfpRdata(2, 2, ed25519)], { error: /no usable record \(1 skipped: .*DSA/ }],
  ["skips a record too short to read", [Buffer.from([4]), sshfpRdata(4, 2, ed25519)], { keep: [4], warnings: [/skipped a record: SSHFP data of 1 bytes/] }],
];

for (const [what, rdatas, want] of trustCases) {
  test(`sshfpTrust ${what}`, async () => {
    const fake = await startFakeDns((q) => ({ chunks: [frame(answer(q, { answers: rdatas.map((rdata) => ({ type: TYPE_SSHFP, rdata })) }))] }));
    try {
      const run = sshfpTrust(NAME, fake.address);
      if (want.error) {
        await assert.rejects(run, rejectsWith(want.error.source.includes("no SSHFP") ? "sshfp-none" : "sshfp-unusable", want.error));
        return;
      }
      const trust = await run;
      assert.deepEqual(trust.fingerprints.map((f) => f.algorithm), want.keep);
      for (const f of trust.fingerprints) assert.equal(f.source, `SSHFP ${NAME} via ${fake.address} (DNSSEC)`);
      assert.equal(trust.warnings.length, want.warnings?.length ?? 0);
      for (const [i, w] of (want.warnings ?? []).entries()) assert.match(trust.warnings[i]!, w);
    } finally {
      await fake.close();
    }
  });
}
