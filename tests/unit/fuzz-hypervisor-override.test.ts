// Seeded fuzzing of `--hypervisor` values: damaged real forms and URIs parse to a well-formed
// hypervisor address or fail with a typed usage error (exit 2), never echoing a password.
import { test } from "node:test";
import assert from "node:assert/strict";
import { UsageError } from "../../src/core/errors.ts";
import { parseHypervisorOverride, type HypervisorOverride } from "../../src/core/config/index.ts";
import { assertTypedError, FUZZ_SEED, fuzz, mutateTextTimes, show } from "./_fuzz.ts";

const FORMS = [
  "local", "qemu:///system", "qemu:///session", "hv1", "alice@hv1", "alice@hv1:2222", "[::1]", "[::1]:2200", "root@[fe80::1%eth0]:22",
  "::1", "10.0.0.1:22", "ssh://alice@hv1:2222", "ssh://hv1", "ssh://[::1]:22/", "qemu+ssh://root@hv1:22/system?keyfile=/k&knownhosts=/kh",
  "qemu+ssh://root@hv1/session", "qemu+ssh://hv1/?knownhosts=~/.ssh/known_hosts",
];
// A password where one might be written: every message and result must keep it out.
const SECRET = "S3cretPw";
const WITH_SECRETS = [`ssh://alice:${SECRET}@hv1`, `qemu+ssh://alice:${SECRET}@hv1:22/system`, `ssh://alice:p@${SECRET}@hv1:2222/`, `ssh://alice:pa/${SECRET}@hv1`, `alice:${SECRET}@hv1`];

function checkResult(r: HypervisorOverride, where: string): void {
  if (r.local) return;
  assert.ok(r.hostname && r.hostname.length > 0 && !/[\s/@]/.test(r.hostname), `${where}: hostname ${show(r.hostname)}`);
  if (r.port !== undefined) assert.ok(Number.isInteger(r.port) && r.port >= 1 && r.port <= 65535, `${where}: port ${r.port}`);
  // A ":" in a user name is a password written where it would be logged.
  if (r.username !== undefined) assert.ok(r.username.length > 0 && !r.username.includes(":"), `${where}: user name ${show(r.username)}`);
}

test(`damaged --hypervisor values parse to a well-formed address or fail with exit 2 (seed ${FUZZ_SEED + 20})`, async () => {
  await fuzz("--hypervisor", { seed: FUZZ_SEED + 20, count: 15_000 }, (rand) =>
    rand.chance(0.95) ? mutateTextTimes(rand, rand.pick(FORMS), FORMS) : rand.text(40),
  (spec, context) => {
    let r: HypervisorOverride;
    try {
      r = parseHypervisorOverride(spec);
    } catch (error) {
      assertTypedError(error, context, [UsageError]);
      assert.equal(error.exitCode, 2, context);
      return;
    }
    checkResult(r, context);
  });
});

/**
 * The password a value carries, by issue 14's rule: in a URI everything after the first ":"
 * between "://" and the last "@"; in a bare USER@HOST, everything after a ":" in USER.
 */
function passwordIn(spec: string): string | undefined {
  const at = spec.lastIndexOf("@");
  const scheme = spec.indexOf("://");
  const user = scheme !== -1 && scheme < at ? spec.slice(scheme + 3, at) : scheme === -1 && at !== -1 ? spec.slice(0, at) : "";
  const colon = user.indexOf(":");
  return colon === -1 ? undefined : user.slice(colon + 1);
}

test(`values carrying a password never echo it, however damaged (seed ${FUZZ_SEED + 21})`, async () => {
  await fuzz("--hypervisor with a password", { seed: FUZZ_SEED + 21, count: 5000 }, (rand) => {
    // Damage anywhere but inside the password itself, so the secret stays recognisable.
    const uri = rand.pick(WITH_SECRETS);
    const at = uri.indexOf(SECRET);
    return rand.chance(0.5)
      ? `${mutateTextTimes(rand, uri.slice(0, at), FORMS)}${SECRET}${uri.slice(at + SECRET.length)}`
      : `${uri.slice(0, at + SECRET.length)}${mutateTextTimes(rand, uri.slice(at + SECRET.length), FORMS)}`;
  }, (spec, context) => {
    const secret = passwordIn(spec)?.includes(SECRET) ? SECRET : undefined;
    let r: HypervisorOverride;
    try {
      r = parseHypervisorOverride(spec);
    } catch (error) {
      assertTypedError(error, context, [UsageError]);
      if (secret) assert.ok(!`${error.message} ${error.hint ?? ""}`.includes(secret), `${context}: the password is in the error: ${show(error.message)}`);
      return;
    }
    checkResult(r, context);
    // A password never belongs on the command line: a value that carries one is refused.
    if (secret) assert.fail(`${context}: a value with a password was accepted as ${show(r)}`);
  });
});
