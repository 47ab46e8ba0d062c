// The shared hypervisor sessions, with a fake connector: one handshake for concurrent callers,
// a dead session replaced, another connection when a full one refuses a channel, and close().
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ClientChannel } from "ssh2";
import type { HypervisorConfig } from "../../src/core/config/types.ts";
import { nodeEngineIO } from "../../src/core/engine-io.ts";
import { OperationError } from "../../src/core/errors.ts";
import type { SshHop } from "../../src/core/ssh/hop.ts";
import { HypervisorPool } from "../../src/core/tunnel/hypervisor-pool.ts";

const HV = {
  name: "default",
  local: false,
  hostname: "hv1.example.com",
  port: 22,
  username: "root",
  socat: "socat",
  verification: { knownHosts: [], useSshfp: false, ignoreHostKey: false, origin: "hypervisor" },
  auth: { useAgent: true, origin: "hypervisor" },
} as HypervisorConfig;

class FakeHop implements SshHop {
  readonly label = "hypervisor root@hv1.example.com:22";
  readonly hostKey = { type: "ssh-ed25519", blob: Buffer.alloc(0) };
  readonly negotiated = { serverHostKey: "ssh-ed25519", cipher: "aes128-gcm@openssh.com" };
  isOpen = true;
  readonly closed: Promise<void>;
  execs = 0;
  #end!: () => void;
  constructor(readonly id: number, private readonly maxChannels = Infinity) {
    this.closed = new Promise((r) => (this.#end = r));
  }
  async exec(): Promise<ClientChannel> {
    // OpenSSH answers MaxSessions with reason 2 ("open failed").
    if (this.execs >= this.maxChannels) throw Object.assign(new Error("(SSH) Channel open failure: open failed"), { reason: 2 });
    this.execs++;
    return {} as ClientChannel;
  }
  async forwardOut(): Promise<ClientChannel> {
    throw new Error("not used");
  }
  close(): void {
    this.isOpen = false;
    this.#end();
  }
}

function connector(opts: { fail?: number[]; maxChannels?: number } = {}) {
  const hops: FakeHop[] = [];
  let calls = 0;
  const connect = async (): Promise<SshHop> => {
    const n = ++calls;
    await new Promise((r) => setTimeout(r, 5));
    if (opts.fail?.includes(n)) throw new Error(`handshake ${n} failed`);
    const hop = new FakeHop(n, opts.maxChannels);
    hops.push(hop);
    return hop;
  };
  return { hops, connect, calls: () => calls };
}

const io = nodeEngineIO();

describe("hypervisor pool", () => {
  test("concurrent callers share one handshake and get the same session", async () => {
    const c = connector();
    const pool = new HypervisorPool(io, c.connect);
    const [a, b, d] = await Promise.all([pool.session(HV), pool.session(HV), pool.session(HV)]);
    assert.equal(c.calls(), 1);
    assert.equal(a, b);
    assert.equal(b, d);
    await pool.close();
  });

  test("a failed handshake fails every caller waiting on it, and the next call tries again", async () => {
    const c = connector({ fail: [1] });
    const pool = new HypervisorPool(io, c.connect);
    const results = await Promise.allSettled([pool.session(HV), pool.session(HV)]);
    assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
    assert.equal(c.calls(), 1);
    const hop = await pool.session(HV);
    assert.equal((hop as FakeHop).id, 2);
    await pool.close();
  });

  test("a session that died is replaced by a new handshake on the next call", async () => {
    const c = connector();
    const pool = new HypervisorPool(io, c.connect);
    const first = await pool.session(HV);
    first.close();
    const [a, b] = await Promise.all([pool.session(HV), pool.session(HV)]);
    assert.notEqual(a, first);
    assert.equal(a, b, "both callers got the one replacement");
    assert.equal(c.calls(), 2);
    await pool.close();
  });

  test("when the session refuses another channel, the command runs on a second connection", async () => {
    const c = connector({ maxChannels: 2 });
    const pool = new HypervisorPool(io, c.connect);
    const runner = await pool.runner(HV);
    for (let i = 0; i < 3; i++) await runner.run(["true"]).catch(() => undefined);
    assert.equal(c.calls(), 2, "a second connection was opened");
    assert.deepEqual(c.hops.map((h) => h.execs), [2, 1]);
    await pool.close();
  });

  test("close() closes every connection, and later calls fail with a clear error", async () => {
    const c = connector({ maxChannels: 1 });
    const pool = new HypervisorPool(io, c.connect);
    const runner = await pool.runner(HV);
    await runner.run(["true"]).catch(() => undefined);
    await runner.run(["true"]).catch(() => undefined);
    await pool.close();
    assert.ok(c.hops.length === 2 && c.hops.every((h) => !h.isOpen));
    await assert.rejects(pool.session(HV), (e) => e instanceof OperationError && /pool is closed/.test(e.message));
  });
});
