// Pure pieces of the relay: shell quoting of hypervisor argv (no injection through target
// strings) and the naming of socat's failures (each cause with its own message and fix).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { shellQuote } from "../../src/core/vsock/shell-quote.ts";
import { explainSocatFailure } from "../../src/core/vsock/socat-errors.ts";

describe("shellQuote", () => {
  // Single quotes and backslashes are refused outright (fish reads them as escapes inside quotes): vsock-shell-quote.test.ts.
  const hostile = ["web1", "a b", "$(touch /tmp/x)", "`id`", "a;b|c&d", "--domain=x", "", "é ñ", "new\nline"];
  for (const arg of hostile) {
    test(`the shell reads ${JSON.stringify(arg)} back as exactly one argument`, () => {
      const out = execFileSync("sh", ["-c", `printf '%s\\0' ${shellQuote(arg)}`]);
      assert.deepEqual(out.toString("utf8").split("\0").slice(0, -1), [arg]);
    });
  }
  test("leaves plain words unquoted", () => {
    assert.equal(shellQuote("VSOCK-CONNECT:3:22"), "VSOCK-CONNECT:3:22");
  });
});

describe("explainSocatFailure", () => {
  const line = (why: string) => `2026/11/23 13:00:00 socat[42] E connect(5, AF=40 cid:9 port:22, 16): ${why}\n`;
  const cases: { name: string; stderr: string; code: number | null; message: RegExp; hint: RegExp }[] = [
    { name: "no such device means no VM on that CID", stderr: line("No such device"), code: 1, message: /no VM answers on that CID: .*No such device/, hint: /vhost-vsock-pci,guest-cid=N|<vsock>/ },
    { name: "refused means nothing listens in the guest", stderr: line("Connection refused"), code: 1, message: /nothing is listening/, hint: /VSOCK-LISTEN:22/ },
    { name: "reset counts as nothing listening", stderr: line("Connection reset by peer"), code: 1, message: /nothing is listening/, hint: /ListenStream=vsock::22/ },
    { name: "exit 127 means socat is missing", stderr: "sh: 1: socat: not found\n", code: 127, message: /socat is not installed/, hint: /socat >= 1\.7\.4/ },
    { name: "an unknown address type means no VSOCK support", stderr: "socat[1] E unknown device/address \"VSOCK-CONNECT\"\n", code: 1, message: /lacks VSOCK support/, hint: /vhost_vsock/ },
    { name: "a timeout says the guest did not accept in time", stderr: line("Connection timed out"), code: 1, message: /did not accept the connection in time/, hint: /systemd-ssh-generator/ },
    { name: "silence still names the relay and the exit status", stderr: "", code: 3, message: /closed before the guest's SSH banner \(exit status 3\)/, hint: /VSOCK-LISTEN/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const e = explainSocatFailure("guest g1 (vsock CID 9 port 22)", c.stderr, c.code);
      assert.equal(e.exitCode, 6);
      assert.match(e.message, /^guest g1 \(vsock CID 9 port 22\): /);
      assert.match(e.message, c.message);
      assert.match(e.hint ?? "", c.hint);
      assert.ok(!e.message.includes("\n"), "one line");
    });
  }
});
