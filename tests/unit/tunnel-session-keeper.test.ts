// The session keeper: a dead session is reopened with logged, backed-off attempts; callers wait
// for the new session; the first connection is never retried; close() ends everything.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { LogEvent } from "../../src/core/engine-io.ts";
import { SessionKeeper, type KeptSession } from "../../src/core/tunnel/session-keeper.ts";

class FakeSession implements KeptSession {
  isOpen = true;
  closeCalls = 0;
  readonly closed: Promise<void>;
  #end!: () => void;
  constructor(readonly id: number) {
    this.closed = new Promise((r) => (this.#end = r));
  }
  /** The far end went away. */
  die(): void {
    this.isOpen = false;
    this.#end();
  }
  close(): void {
    this.closeCalls++;
    this.die();
  }
}

const fast = { baseMs: 10, maxMs: 40, factor: 2 };

/** connect() that follows a script: a session, or an error message to fail with. */
function scripted(steps: Array<"ok" | string>) {
  const made: FakeSession[] = [];
  let calls = 0;
  return {
    made,
    calls: () => calls,
    connect: async (): Promise<FakeSession> => {
      const step = steps[calls++] ?? "ok";
      if (step !== "ok") throw new Error(step);
      const s = new FakeSession(made.length);
      made.push(s);
      return s;
    },
  };
}

describe("SessionKeeper", () => {
  test("reopens a lost session after failed attempts, logging each attempt with its number and delay", async () => {
    const logs: LogEvent[] = [];
    const lost: number[] = [];
    const script = scripted(["ok", "connection refused", "connection refused", "ok"]);
    const keeper = await SessionKeeper.open({ guest: "g1", connect: script.connect, log: (e) => logs.push(e), backoff: fast, onLost: (s) => lost.push(s.id) });
    assert.equal((await keeper.current()).id, 0);

    script.made[0].die();
    const next = await keeper.current();
    assert.equal(next.id, 1);
    assert.ok(next.isOpen);
    assert.deepEqual(lost, [0]);
    assert.equal(keeper.attempts, 3);
    const attempts = logs.filter((e) => e.event === "reconnect").map((e) => e.detail);
    assert.equal(attempts.length, 3);
    attempts.forEach((d, i) => assert.match(d!, new RegExp(`^attempt ${i + 1} in \\d+\\.\\d s$`)));
    assert.equal(logs.filter((e) => e.event === "reconnect-failed").length, 2);
    assert.match(logs.find((e) => e.event === "reconnect-failed")!.detail!, /connection refused/);
    assert.ok(logs.some((e) => e.event === "reconnected" && e.detail === "after 3 attempts"));
    keeper.close();
  });

  test("callers arriving during the outage all get the same new session", async () => {
    const script = scripted(["ok", "down", "ok"]);
    const keeper = await SessionKeeper.open({ guest: "g1", connect: script.connect, log: () => {}, backoff: fast });
    script.made[0].die();
    await Promise.resolve();
    const got = await Promise.all([keeper.current(), keeper.current(), keeper.current()]);
    assert.deepEqual(got.map((s) => s.id), [1, 1, 1]);
    assert.equal(script.calls(), 3);
    keeper.close();
  });

  test("heals again after a second loss", async () => {
    const script = scripted([]);
    const keeper = await SessionKeeper.open({ guest: "g1", connect: script.connect, log: () => {}, backoff: fast });
    script.made[0].die();
    assert.equal((await keeper.current()).id, 1);
    script.made[1].die();
    assert.equal((await keeper.current()).id, 2);
    keeper.close();
  });

  test("a failing first connection rejects open() with its own error and is not retried", async () => {
    const script = scripted(["host key changed"]);
    await assert.rejects(SessionKeeper.open({ guest: "g1", connect: script.connect, log: () => {}, backoff: fast }), /host key changed/);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(script.calls(), 1);
  });

  test("close() during the backoff stops reconnecting and makes current() reject", async () => {
    const script = scripted(["ok", "down", "down", "down", "down"]);
    const keeper = await SessionKeeper.open({ guest: "g1", connect: script.connect, log: () => {}, backoff: { baseMs: 200, maxMs: 200, factor: 1 } });
    script.made[0].die();
    const waiting = keeper.current();
    keeper.close();
    await assert.rejects(waiting, /closed/);
    await assert.rejects(keeper.current(), /closed/);
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(script.calls(), 1, "no attempt after close()");
  });

  test("close() closes the live session and does not count as a loss", async () => {
    const lost: number[] = [];
    const script = scripted([]);
    const keeper = await SessionKeeper.open({ guest: "g1", connect: script.connect, log: () => {}, backoff: fast, onLost: (s) => lost.push(s.id) });
    keeper.close();
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(script.made[0].closeCalls, 1);
    assert.deepEqual(lost, []);
    assert.equal(script.calls(), 1);
  });

  test("once draining, a lost session ends its connections and is not re-established", async () => {
    const logs: LogEvent[] = [];
    const lost: number[] = [];
    const script = scripted(["ok"]);
    const keeper = await SessionKeeper.open({ guest: "g1", connect: script.connect, log: (e) => logs.push(e), backoff: fast, onLost: (s) => lost.push(s.id) });
    keeper.stopReconnecting();
    script.made[0].die();
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(lost, [0], "its connections were ended");
    assert.equal(script.calls(), 1, "no reconnection");
    assert.equal(logs.filter((e) => e.event === "reconnect" || e.event === "session-lost").length, 0);
    keeper.close();
  });
});
