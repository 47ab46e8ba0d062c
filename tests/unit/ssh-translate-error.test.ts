// Raw ssh2 / node:net failures map to the documented exit codes in one place, using what the
// handshake revealed (a refusing verdict wins over the transport error it caused).
import { test } from "node:test";
import assert from "node:assert/strict";
import { translateSshError, type HandshakeTrace } from "../../src/core/ssh/translate-error.ts";

const trace = (extra: Partial<HandshakeTrace> = {}): HandshakeTrace => ({ label: "hypervisor root@h:22", ours: ["ssh-ed25519"], ...extra });
const err = (message: string, props: Record<string, unknown> = {}) => Object.assign(new Error(message), props);

const cases: { name: string; error: Error; trace?: Partial<HandshakeTrace>; overStream?: boolean; exit: number; match: RegExp }[] = [
  { name: "a refused TCP connection is unreachable (5)", error: err("connect ECONNREFUSED 127.0.0.1:1", { code: "ECONNREFUSED", level: "client-socket" }), exit: 5, match: /ECONNREFUSED/ },
  { name: "an unknown host name is unreachable (5)", error: err("getaddrinfo ENOTFOUND nope", { code: "ENOTFOUND", level: "client-socket" }), exit: 5, match: /ENOTFOUND/ },
  { name: "a handshake timeout is unreachable (5)", error: err("Timed out while waiting for handshake", { level: "client-timeout" }), exit: 5, match: /connect timeout/ },
  { name: "exhausted authentication methods are an auth failure (4)", error: err("All configured authentication methods failed", { level: "client-authentication" }), exit: 4, match: /authentication failed/ },
  { name: "no common host key format names both sides (3)", error: err("Handshake failed: no matching host key format", { level: "handshake" }), trace: { offered: ["rsa-sha2-512"] }, exit: 3, match: /rsa-sha2-512[\s\S]*ssh-ed25519|ssh-ed25519[\s\S]*rsa-sha2-512/ },
  { name: "a refusing verdict wins over the error it caused (3)", error: err("Host denied (verification failed)", { level: "handshake" }), trace: { verdict: { kind: "unknown", presented: "SHA256:abc", expected: [] }, presentedType: "ssh-ed25519" }, exit: 3, match: /SHA256:abc/ },
  { name: "a stream that dies under the guest hop is a relay failure (6)", error: err("Connection lost before handshake", { level: "protocol" }), overStream: true, exit: 6, match: /stream to the guest failed/ },
];

for (const c of cases) {
  test(c.name, () => {
    const e = translateSshError(c.error, trace(c.trace), c.overStream ?? false);
    assert.equal(e.exitCode, c.exit);
    assert.match(e.message, c.match);
    assert.ok(e.message.startsWith("hypervisor root@h:22") || /host key/.test(e.message), e.message);
  });
}
