// Text from a peer never reaches the terminal raw: the helper itself, and every place where a
// server's, a relay's or a guest's words enter a message (errors, doctor's verdicts, traces).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { Duplex, PassThrough } from "node:stream";
import { escapePeerText, lastPeerLine, quotePeerBytes } from "../../src/core/peer-text.ts";
import { explainSocatFailure } from "../../src/core/vsock/socat-errors.ts";
import { explainUnixRelay, lastLine } from "../../src/core/vsock/unix-errors.ts";
import { awaitGreeting } from "../../src/core/vsock/greeting.ts";
import { printable } from "../../src/core/vsock/vsock-mux.ts";
import { remoteRunner, type CommandRunner, type CommandStream } from "../../src/core/vsock/command-stream.ts";
import { checkSocat, checkVhostVsock } from "../../src/core/doctor/hypervisor-tools.ts";
import { checkBanner } from "../../src/core/doctor/guest-banner.ts";
import { checkForward } from "../../src/core/doctor/guest-forward.ts";
import { checkTcp } from "../../src/core/doctor/tcp.ts";
import { failFrom } from "../../src/core/doctor/_verdict.ts";
import { translateSshError } from "../../src/core/ssh/translate-error.ts";
import { ssh2Trace, type LogEvent } from "../../src/core/engine-io.ts";
import type { SshHop } from "../../src/core/ssh/hop.ts";

/** Erases the screen, sets the window title, returns the cursor and overrides the text direction. */
const HOSTILE = "\x1b[2J\x1b]0;owned\x07\rfake ok\u009b31m\u202eevil\x00";

/** No control character a terminal would act on survives (the text may still mention them escaped). */
function assertInert(text: string, where = "text"): void {
  assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/, `${where}: ${JSON.stringify(text)}`);
}

describe("escapePeerText", () => {
  test("escapes C0 and C1 controls, DEL and bidi overrides, keeping ordinary text", () => {
    assert.equal(escapePeerText("a\x1b[2Jb\x07\r\n\x7f\u009b\u202ec é"), "a\\x1b[2Jb\\x07\\x0d\\x0a\\x7f\\x9b\\u202ec é");
  });
  test("caps the length after escaping", () => {
    assert.equal(escapePeerText("\x00".repeat(100), 10), "\\x00\\x00\\x…");
  });
});

describe("quotePeerBytes (the hybrid vsock reply uses the same helper)", () => {
  test("quotes bytes with printable ASCII kept and everything else escaped", () => {
    assert.equal(quotePeerBytes(Buffer.from('a"b\\c\r\n\x00\xff\x1b', "latin1")), '"a\\"b\\\\c\\r\\n\\x00\\xff\\x1b"');
  });
  test("says how many bytes it left out", () => {
    assert.equal(quotePeerBytes(Buffer.alloc(70, 0x41), 60), `"${"A".repeat(60)}" (10 more bytes)`);
  });
  test("vsock-mux's printable is this helper", () => {
    assert.equal(printable, quotePeerBytes);
  });
});

describe("lastPeerLine", () => {
  test("takes the last non-empty line, trimmed and escaped", () => {
    assert.equal(lastPeerLine(`first\n  second ${HOSTILE}  \n\n`), `second ${escapePeerText(HOSTILE, 1000)}`);
  });
});

describe("relay stderr enters error messages escaped", () => {
  test("socat's stderr on a failed vsock relay", () => {
    const e = explainSocatFailure("guest g1", `2026/11/23 13:00:00 socat[42] E connect(): ${HOSTILE} No such device\n`, 1);
    assert.match(e.message, /no VM answers on that CID/);
    assert.match(e.message, /\\x1b\[2J\\x1b\]0;owned\\x07\\x0dfake ok/);
    assertInert(e.message);
  });
  test("socat's stderr on a failed Unix relay, and lastLine (which libvirt's virsh errors go through)", () => {
    const e = explainUnixRelay("/run/x.sock")("guest u", `socat[9] E connect(): ${HOSTILE}\n`, 1);
    assertInert(e.message);
    assert.match(e.message, /\\x1b\[2J/);
    assertInert(lastLine(`2024/01/02 03:04:05 socat[77] E ${HOSTILE}\n`));
    assert.match(lastLine(`2024/01/02 03:04:05 socat[77] E ${HOSTILE}\n`), /^\\x1b\[2J/);
  });
  test("the hypervisor's refusal of a channel for the relay command", async () => {
    const hop = { label: "hypervisor h", exec: async () => { throw new Error(`(SSH) Channel open failure: ${HOSTILE}`); } } as unknown as SshHop;
    await assert.rejects(remoteRunner(hop).run(["socat", "-V"]), (e: Error) => {
      assertInert(e.message);
      return /Channel open failure: \\x1b\[2J/.test(e.message);
    });
  });
  test("a relay stream's own error", async () => {
    const stream = new PassThrough();
    const cmd: CommandStream = { stream, stderr: () => "", exited: new Promise(() => {}), kill: () => {} };
    const waiting = awaitGreeting(cmd, "guest g", 5000);
    stream.destroy(new Error(`channel failed ${HOSTILE}`));
    await assert.rejects(waiting, (e: Error) => {
      assertInert(e.message);
      return /channel failed \\x1b\[2J/.test(e.message);
    });
  });
});

/** Runs every command as one that prints `stdout`/`stderr` and exits with `code`. */
function fakeRunner(out: { stdout: string; stderr: string; code: number }): CommandRunner {
  return {
    where: "hypervisor test",
    async run() {
      const stream = new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
      const exited = new Promise<number | null>((r) => setImmediate(() => {
        stream.push(out.stdout);
        stream.push(null);
        r(out.code);
      }));
      return { stream, stderr: () => out.stderr, exited, kill: () => {} };
    },
  };
}

describe("doctor shows what peers said, escaped", () => {
  test("socat -V failing with hostile stderr", async () => {
    const v = await checkSocat(fakeRunner({ stdout: "", stderr: `sh: ${HOSTILE}\n`, code: 2 }), "socat", 5000);
    assert.equal(v.status, "fail");
    assert.match(v.detail, /socat -V failed: .*sh: \\x1b\[2J/);
    assertInert(v.detail);
  });
  test("socat -V failing with hostile stdout only", async () => {
    const v = await checkSocat(fakeRunner({ stdout: `${HOSTILE}\n`, stderr: "", code: 2 }), "socat", 5000);
    assertInert(v.detail);
  });
  test("the vhost-vsock check's runner error", async () => {
    const runner: CommandRunner = { where: "h", run: async () => { throw new Error(`cannot ${HOSTILE}`); } };
    const v = await checkVhostVsock(runner, 5000);
    assertInert(v.detail);
  });

  const relayWith = (first: string): (() => Promise<CommandStream>) => async () => {
    const stream = new PassThrough();
    stream.write(Buffer.from(first, "latin1"));
    return { stream, stderr: () => "", exited: new Promise(() => {}), kill: () => stream.destroy() };
  };
  test("the guest's SSH banner", async () => {
    const v = await checkBanner({ kind: "vsock", cid: 3, port: 22 }, relayWith(`SSH-2.0-evil${HOSTILE}\r\n`));
    assert.equal(v.status, "pass");
    assert.match(v.detail, /answered: SSH-2\.0-evil\\x1b\[2J/);
    assertInert(v.detail);
  });
  test("a first line that is not an SSH banner", async () => {
    const v = await checkBanner({ kind: "vsock", cid: 3, port: 22 }, relayWith(`HTTP/1.0 ${HOSTILE}\r\n`));
    assert.equal(v.status, "fail");
    assertInert(v.detail);
  });

  const hopWith = (forwardOut: SshHop["forwardOut"]): SshHop => ({ forwardOut } as SshHop);
  test("the guest's refusal to forward", async () => {
    const v = await checkForward(hopWith(async () => { throw new Error(`(SSH) Channel open failure: ${HOSTILE}`); }), { host: "127.0.0.1", port: 8080 });
    assert.equal(v.status, "fail");
    assertInert(v.detail);
  });
  test("what the forwarded service said first", async () => {
    const channel = Object.assign(new PassThrough(), { close() {} });
    const v = checkForward(hopWith(async () => channel as never), { host: "127.0.0.1", port: 8080 }, 5000);
    setImmediate(() => channel.write(`hello ${HOSTILE}\r\n`));
    const verdict = await v;
    assert.match(verdict.detail, /answered: hello \\x1b\[2J/);
    assertInert(verdict.detail);
  });
  test("an unexpected error's message", () => {
    assertInert(failFrom(new Error(`boom ${HOSTILE}`)).detail);
  });

  /** A loopback server that sends `greeting` to whoever connects. */
  async function greeter(greeting: string): Promise<{ port: number; close: () => void }> {
    const server = net.createServer((s) => s.end(Buffer.from(greeting, "latin1")));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
  }
  test("the hypervisor's identification line", async () => {
    const srv = await greeter(`SSH-2.0-OpenSSH_9.2 ${HOSTILE}\r\n`);
    try {
      const v = await checkTcp("127.0.0.1", srv.port, 5000);
      assert.equal(v.status, "pass");
      assert.match(v.detail, /server says SSH-2\.0-OpenSSH_9\.2 \\x1b\[2J/);
      assertInert(v.detail);
    } finally {
      srv.close();
    }
  });
  test("a hypervisor port that does not speak SSH", async () => {
    const srv = await greeter(`220 ${HOSTILE}\r\n`);
    try {
      const v = await checkTcp("127.0.0.1", srv.port, 5000);
      assert.equal(v.status, "fail");
      assertInert(v.detail);
    } finally {
      srv.close();
    }
  });
});

describe("SSH errors and traces", () => {
  test("a DISCONNECT description (ssh2 makes it the error message) is escaped in every translation", () => {
    for (const overStream of [false, true]) {
      const e = translateSshError(new Error(`go away ${HOSTILE}`), { label: "hypervisor h", ours: [] }, overStream);
      assert.match(e.message, /go away \\x1b\[2J/);
      assertInert(e.message);
    }
    const hs = translateSshError(new Error(`Handshake failed: ${HOSTILE}`), { label: "hypervisor h", ours: [] }, false);
    assertInert(hs.message);
  });
  test("ssh2's protocol trace lines (-vv) carry peer text escaped", () => {
    const seen: LogEvent[] = [];
    const trace = ssh2Trace({ traces: true, log: (e: LogEvent) => seen.push(e) } as never, { hop: "h" })!;
    trace(`Inbound: Received DISCONNECT (11, "${HOSTILE}")`);
    assert.equal(seen.length, 1);
    assertInert(seen[0]!.detail!);
    assert.match(seen[0]!.detail!, /DISCONNECT \(11, "\\x1b\[2J/);
  });
});
