// The one host name check behind the generators, keyscan, doctor's known_hosts line and the
// config's `hostname`: names, IP literals and [host]:port pass; patterns and extra lines never do.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { UsageError } from "../../src/core/errors.ts";
import { checkHostName, hostNameProblem } from "../../src/core/hostname.ts";

describe("hostNameProblem", () => {
  const accepted: Array<[string, Parameters<typeof hostNameProblem>[1]]> = [
    ["web1", {}],
    ["web1.example.com", {}],
    ["Web-1.Example.COM", {}],
    ["web1.example.com.", {}],
    ["_ssh.example.com", {}],
    ["127.0.0.1", {}],
    ["2001:db8::7", {}],
    ["::1", {}],
    ["fe80::1%eth0", {}],
    ["[web1.example.com]:2222", { port: true }],
    ["[2001:db8::7]:22", { port: true }],
    ["vsock/3", { target: true }],
    ["vsock%3:2222", { target: true }],
    ["qemu:session/dev", { target: true }],
    ["qemu-system%web3", { target: true }],
    ["unix/run/vm.sock", { target: true }],
    ["vsock-mux/./fc.vsock", { target: true }],
  ];
  for (const [name, allow] of accepted) {
    test(`accepts ${JSON.stringify(name)} (${JSON.stringify(allow)})`, () => assert.equal(hostNameProblem(name, allow), undefined));
  }

  const refused: Array<[string, Parameters<typeof hostNameProblem>[1], RegExp]> = [
    ["web1,*", { port: true, target: true }, /pattern/],
    ["*", { port: true, target: true }, /pattern/],
    ["web?.example.com", { port: true, target: true }, /pattern/],
    ["!web1", { port: true, target: true }, /pattern/],
    ["web1\n@revoked * ssh-ed25519 AAAA", { port: true, target: true }, /control character/],
    ["web1\rx", {}, /control character/],
    ["web1\u001b[2J", {}, /control character/],
    ["web1 extra", { port: true, target: true }, /whitespace/],
    ["web1\tx", {}, /whitespace|control/],
    ["", {}, /empty/],
    ["-oProxyCommand=x", {}, /not a host name/],
    ["web..example.com", {}, /not a host name/],
    ["a".repeat(64) + ".example.com", {}, /not a host name/],
    ["|1|abc|def", { port: true, target: true }, /not a host name/],
    ["@cert-authority", { port: true, target: true }, /not a host name/],
    ["#comment", { port: true, target: true }, /not a host name/],
    ["[web1]:2222", {}, /not a host name/],
    ["[web1]:0", { port: true }, /port/],
    ["[web1]:65536", { port: true }, /port/],
    ["[web1,*]:2222", { port: true }, /pattern/],
    ["vsock/3", {}, /not a host name/],
    ["unix/run/a b", { target: true }, /whitespace/],
    ["unix/run/a'b", { target: true }, /not a host name/],
    ["web1\u2028x", {}, /control character/],
  ];
  for (const [name, allow, why] of refused) {
    test(`refuses ${JSON.stringify(name)} (${JSON.stringify(allow)})`, () => {
      const problem = hostNameProblem(name, allow);
      assert.ok(problem !== undefined, "accepted");
      assert.match(problem, why);
      // The message never carries the raw text: a newline in it would add a line to the error.
      assert.doesNotMatch(problem, /[\x00-\x1f\u2028]/);
    });
  }
});

describe("checkHostName", () => {
  test("returns an accepted name unchanged", () => assert.equal(checkHostName("web1.example.com", "HOSTNAME"), "web1.example.com"));

  test("throws a UsageError (exit 2) that names the argument and shows the text escaped", () => {
    assert.throws(
      () => checkHostName("web1\n@revoked *", "HOSTNAME"),
      (e: unknown) => e instanceof UsageError && e.exitCode === 2 && /^HOSTNAME "web1\\n@revoked \*"/.test(e.message) && !e.message.includes("\n"),
    );
  });
});
