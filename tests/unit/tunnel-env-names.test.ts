// The variables `run` exports: names upper-cased, other characters as `_`, collisions refused.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { tunnelEnv, tunnelEnvName } from "../../src/core/tunnel/env-names.ts";
import { UsageError } from "../../src/core/errors.ts";

describe("tunnelEnvName", () => {
  const cases: Array<[string, string]> = [
    ["g1", "G1"],
    ["web-1", "WEB_1"],
    ["vsock/3", "VSOCK_3"],
    ["qemu:system/db.prod", "QEMU_SYSTEM_DB_PROD"],
    ["Ünï", "_N_"],
  ];
  for (const [guest, want] of cases) test(`${guest} → ${want}`, () => assert.equal(tunnelEnvName(guest), want));
});

describe("tunnelEnv", () => {
  test("exports HOST and PORT for every tunnel", () => {
    assert.deepEqual(
      tunnelEnv([
        { guest: "g1", address: { host: "127.0.0.1", port: 4001 } },
        { guest: "web-2", address: { host: "::1", port: 4002 } },
      ]),
      { SSH2VSOCK_G1_HOST: "127.0.0.1", SSH2VSOCK_G1_PORT: "4001", SSH2VSOCK_WEB_2_HOST: "::1", SSH2VSOCK_WEB_2_PORT: "4002" },
    );
  });

  test("refuses two guests that map to the same variable, naming both", () => {
    assert.throws(
      () => tunnelEnv([
        { guest: "web-1", address: { host: "127.0.0.1", port: 1 } },
        { guest: "web_1", address: { host: "127.0.0.1", port: 2 } },
      ]),
      (e: unknown) => e instanceof UsageError && /"web-1" and "web_1"/.test(e.message) && e.exitCode === 2,
    );
  });
});
