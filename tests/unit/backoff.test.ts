// Reconnection backoff: exponential, capped, jittered within bounds, never zero.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay, DEFAULT_BACKOFF } from "../../src/core/tunnel/backoff.ts";

describe("backoffDelay", () => {
  test("doubles from 0.5 s per attempt at the top of the jitter range", () => {
    const top = () => 1;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelay(a, DEFAULT_BACKOFF, top)),
      [500, 1000, 2000, 4000, 8000, 16000, 30000],
    );
  });

  test("never exceeds 30 s, even after thousands of attempts", () => {
    for (const a of [8, 20, 100, 5000, Number.MAX_SAFE_INTEGER]) {
      assert.equal(backoffDelay(a, DEFAULT_BACKOFF, () => 1), 30_000, `attempt ${a}`);
    }
  });

  test("jitter keeps every delay within [ceiling/2, ceiling]", () => {
    const cases: Array<[number, number, number]> = [
      [1, 250, 500],
      [3, 1000, 2000],
      [12, 15000, 30000],
    ];
    for (const [attempt, lo, hi] of cases) {
      assert.equal(backoffDelay(attempt, DEFAULT_BACKOFF, () => 0), lo);
      assert.equal(backoffDelay(attempt, DEFAULT_BACKOFF, () => 1), hi);
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(attempt);
        assert.ok(d >= lo && d <= hi, `attempt ${attempt}: ${d}`);
      }
    }
  });

  test("a random source outside [0, 1] and attempts below 1 are clamped", () => {
    assert.equal(backoffDelay(0, DEFAULT_BACKOFF, () => 5), 500);
    assert.equal(backoffDelay(-3, DEFAULT_BACKOFF, () => -1), 250);
  });

  test("a custom policy is honoured", () => {
    assert.equal(backoffDelay(3, { baseMs: 100, maxMs: 250, factor: 3 }, () => 1), 250);
    assert.equal(backoffDelay(2, { baseMs: 100, maxMs: 1000, factor: 3 }, () => 1), 300);
  });
});
