// One port rule and one wording for every port option, argument and config attribute.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { portProblem, hostPortProblem } from "../../src/core/config/host-port.ts";
import { parsePort, parseHostPort } from "../../src/cli/host-port.ts";
import { parseHypervisorOverride } from "../../src/core/config/index.ts";
import { UsageError } from "../../src/core/errors.ts";

describe("portProblem", () => {
  const cases: Array<[string, 0 | 1, number | string]> = [
    ["22", 1, 22],
    ["65535", 1, 65535],
    ["0", 0, 0],
    ["0", 1, "port 0 is outside 1 … 65535"],
    ["65536", 1, "port 65536 is outside 1 … 65535"],
    ["-1", 1, '"-1" is not a port number'],
    ["22x", 1, '"22x" is not a port number'],
    ["", 1, '"" is not a port number'],
    ["4294967295", 1, '"4294967295" is not a port number'],
  ];
  for (const [text, min, want] of cases) {
    test(`"${text}" (from ${min}) → ${JSON.stringify(want)}`, () => assert.equal(portProblem(text, min), want));
  }
});

describe("the command line says the same as the config", () => {
  test("--port 0 names the option and the range", () => {
    assert.throws(() => parsePort("0", "--port"), (e) => e instanceof UsageError && e.message === "--port: port 0 is outside 1 … 65535");
  });
  test("HOST:PORT options reuse the rule", () => {
    assert.equal(hostPortProblem("127.0.0.1:0", 1), "port 0 is outside 1 … 65535");
    assert.throws(() => parseHostPort("127.0.0.1:70000", "--target"), /--target: port 70000 is outside 1 … 65535/);
    assert.deepEqual(parseHostPort("127.0.0.1:0", "--listen"), { host: "127.0.0.1", port: 0 });
  });
  test("--hypervisor HOST:PORT too", () => {
    assert.throws(() => parseHypervisorOverride("hv1:0"), /port 0 is outside 1 … 65535/);
    assert.equal(parseHypervisorOverride("hv1:2222").port, 2222);
  });
});
