// stopPacketTrace relies on where ssh2 keeps its trace callback: this pins that assumption.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import ssh2 from "../../src/core/ssh/ssh2.ts";
import { stopPacketTrace } from "../../src/core/ssh/stop-packet-trace.ts";

test("removes the trace callback from a connected client's protocol, and only once", () => {
  const client = new ssh2.Client();
  client.on("error", () => {});
  const lines: string[] = [];
  client.connect({ sock: new PassThrough() as never, username: "u", debug: (l: string) => lines.push(l) });
  try {
    const protocol = (client as unknown as { _protocol: { _debug?: unknown } })._protocol;
    assert.equal(typeof protocol._debug, "function", "ssh2 keeps the trace in _protocol._debug");
    assert.equal(stopPacketTrace(client), true);
    assert.equal(protocol._debug, undefined);
    assert.equal(stopPacketTrace(client), false);
  } finally {
    client.end();
  }
});

test("leaves a client without a protocol alone", () => {
  assert.equal(stopPacketTrace(new ssh2.Client()), false);
});
