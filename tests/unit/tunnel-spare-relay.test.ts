// The spare relay of a splice tunnel, with fake relays and a fake clock: which relay each
// connection gets, when a spare is refused as stale or dead, and that closing leaves none open.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { SpareRelay } from "../../src/core/tunnel/spare-relay.ts";
import type { CommandStream } from "../../src/core/vsock/command-stream.ts";

interface FakeRelay extends CommandStream {
  id: number;
  killed: boolean;
  /** The guest ends it (sshd's LoginGraceTime). */
  end(): void;
}

function fakes() {
  const made: FakeRelay[] = [];
  let failNext = false;
  const open = async (): Promise<CommandStream> => {
    await Promise.resolve();
    if (failNext) {
      failNext = false;
      throw new Error("no relay");
    }
    let exit!: (code: number | null) => void;
    const relay: FakeRelay = {
      id: made.length + 1,
      killed: false,
      stream: new PassThrough(),
      stderr: () => "",
      exited: new Promise((r) => (exit = r)),
      kill() {
        relay.killed = true;
        exit(null);
      },
      end: () => exit(0),
    };
    made.push(relay);
    return relay;
  };
  return { made, open, failNext: () => (failNext = true) };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("spare relay", () => {
  test("the first connection opens its own relay, and a spare is opened for the next", async () => {
    const f = fakes();
    const spares = new SpareRelay(f.open);
    const first = (await spares.take()) as FakeRelay;
    await tick();
    assert.equal(f.made.length, 2);
    const second = (await spares.take()) as FakeRelay;
    assert.notEqual(first.id, second.id);
    assert.ok(f.made.slice(0, 2).some((r) => r.id === second.id), "the second connection got the spare opened before it");
    spares.close();
  });

  test("a spare older than the maximum age is killed and a fresh relay is used instead", async () => {
    const f = fakes();
    let now = 0;
    const spares = new SpareRelay(f.open, 30_000, () => now);
    const first = (await spares.take()) as FakeRelay;
    await tick();
    const spare = f.made.find((r) => r.id !== first.id)!;
    now = 31_000;
    const got = (await spares.take()) as FakeRelay;
    assert.ok(spare.killed, "the stale spare was killed");
    assert.notEqual(got.id, spare.id);
    spares.close();
  });

  test("a spare the guest already closed is not handed out", async () => {
    const f = fakes();
    const spares = new SpareRelay(f.open);
    const first = (await spares.take()) as FakeRelay;
    await tick();
    const spare = f.made.find((r) => r.id !== first.id)!;
    spare.end();
    await tick();
    const got = (await spares.take()) as FakeRelay;
    assert.notEqual(got.id, spare.id);
    spares.close();
  });

  test("a spare that failed to open does not fail the connection", async () => {
    const f = fakes();
    const spares = new SpareRelay(f.open);
    await spares.take();
    // The spare opened by that take is already under way; fail the one after it.
    await tick();
    f.failNext();
    const second = await spares.take();
    assert.ok(second);
    const third = await spares.take();
    assert.ok(third, "a failed spare is replaced by a relay of the connection's own");
    spares.close();
  });

  test("closing kills the waiting spare, and no further spare is opened", async () => {
    const f = fakes();
    const spares = new SpareRelay(f.open);
    const first = (await spares.take()) as FakeRelay;
    await tick();
    spares.close();
    await tick();
    assert.deepEqual(f.made.filter((r) => r.id !== first.id).map((r) => r.killed), [true]);
    const after = (await spares.take()) as FakeRelay;
    await tick();
    assert.equal(f.made.length, 3, "only the connection's own relay was opened");
    assert.equal(after.killed, false);
  });
});

test("a paused spare whose far side ended (its session died) is not handed out, though it never emitted end", async () => {
  const f = fakes();
  const spares = new SpareRelay(f.open);
  const first = (await spares.take()) as FakeRelay;
  await tick();
  const spare = f.made.find((r) => r.id !== first.id)!;
  // The banner waits unread, as openGuestRelay leaves it; then the session dies.
  spare.stream.pause();
  spare.stream.push("SSH-2.0-OpenSSH_9.2\r\n");
  spare.stream.push(null);
  await tick();
  const got = (await spares.take()) as FakeRelay;
  assert.notEqual(got.id, spare.id);
  assert.ok(spare.killed);
  spares.close();
});
