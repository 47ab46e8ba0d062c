// The tunnel's listener with a fake carrier: every accepted connection reaches the carrier,
// close() drains for its grace period, and a port in use fails with a hint, closing the carrier.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import type { GuestConfig } from "../../src/core/config/types.ts";
import { nodeEngineIO } from "../../src/core/engine-io.ts";
import { OperationError } from "../../src/core/errors.ts";
import type { Carrier } from "../../src/core/tunnel/carrier.ts";
import { listen } from "../../src/core/tunnel/tunnel.ts";

const guest = (port = 0) => ({ name: "web1", mode: "splice", listen: { host: "127.0.0.1", port } }) as GuestConfig;

/** Echoes every connection; records what the tunnel asked of it. */
function echoCarrier() {
  const calls = { served: 0, stopReconnecting: 0, close: 0 };
  const carrier: Carrier = {
    async serve(socket) {
      calls.served++;
      socket.pipe(socket);
      socket.resume();
      await new Promise((r) => socket.once("close", r));
    },
    stopReconnecting: () => void calls.stopReconnecting++,
    close: () => void calls.close++,
  };
  return { carrier, calls };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => resolve(s));
    s.once("error", reject);
  });
}

const io = nodeEngineIO();

describe("tunnel listener", () => {
  test("hands every accepted connection to the carrier and counts the open ones", async () => {
    const { carrier, calls } = echoCarrier();
    const t = await listen(guest(), carrier, io);
    const s = await connect(t.address.port);
    s.write("ping");
    const echoed = await new Promise<string>((r) => s.once("data", (d) => r(String(d))));
    assert.equal(echoed, "ping");
    assert.equal(calls.served, 1);
    assert.equal(t.active, 1);
    s.destroy();
    await t.close();
    assert.equal(calls.close, 1);
  });

  test("close(grace) lets an open connection finish within the grace period, then stops", async () => {
    const { carrier, calls } = echoCarrier();
    const t = await listen(guest(), carrier, io);
    const s = await connect(t.address.port);
    await new Promise((r) => setTimeout(r, 20));
    const closing = t.close(5_000);
    // New connections are refused while draining.
    await assert.rejects(connect(t.address.port));
    setTimeout(() => s.end(), 50);
    const started = Date.now();
    await closing;
    assert.ok(Date.now() - started < 4_000, "closed when the connection finished, not at the deadline");
    assert.equal(calls.stopReconnecting, 1);
    assert.equal(calls.close, 1);
  });

  test("a connection still open when the grace period ends is closed", async () => {
    const { carrier } = echoCarrier();
    const t = await listen(guest(), carrier, io);
    const s = await connect(t.address.port);
    await new Promise((r) => setTimeout(r, 20));
    const ended = new Promise((r) => s.once("close", r));
    await t.close(100);
    await ended;
    assert.equal(t.active, 0);
  });

  test("a port in use fails with a hint, and the carrier is closed", async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    const { carrier, calls } = echoCarrier();
    await assert.rejects(listen(guest(port), carrier, io), (e) => e instanceof OperationError && /address already in use/.test(e.message) && /listen/.test(e.hint ?? ""));
    assert.equal(calls.close, 1);
    await new Promise((r) => blocker.close(r));
  });
});
