import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../../src/core/errors.ts";
import {
  formatResolverAddress,
  parseResolverAddress,
  resolverAddressProblem,
} from "../../src/core/dns/resolver-address.ts";

const accepted: [string, { host: string; port: number; family: 4 | 6 }][] = [
  ["127.0.0.1:53", { host: "127.0.0.1", port: 53, family: 4 }],
  ["9.9.9.9:853", { host: "9.9.9.9", port: 853, family: 4 }],
  ["[::1]:53", { host: "::1", port: 53, family: 6 }],
  ["[2001:db8::53]:5353", { host: "2001:db8::53", port: 5353, family: 6 }],
  ["[fe80::1%eth0]:53", { host: "fe80::1%eth0", port: 53, family: 6 }],
  ["[::ffff:192.0.2.1]:65535", { host: "::ffff:192.0.2.1", port: 65535, family: 6 }],
];

for (const [text, want] of accepted) {
  test(`accepts dns_resolver ${text}`, () => {
    assert.deepEqual(parseResolverAddress(text), want);
    assert.equal(formatResolverAddress(want), text);
  });
}

const refused: [string, RegExp][] = [
  ["127.0.0.1", /a port is required/],
  ["localhost:53", /must be an IP address/],
  ["resolver.example.com:53", /must be an IP address/],
  ["::1:53", /must be written in brackets/],
  ["::1", /must be written in brackets/],
  ["[::1]", /followed by :PORT/],
  ["[::1]53", /followed by :PORT/],
  ["[::1]:", /not a port number/],
  ["[127.0.0.1]:53", /not an IPv6 address/],
  ["[fe80::1%]:53", /not a valid IPv6 zone/],
  ["[fe80::1%eth 0]:53", /not a valid IPv6 zone/],
  ["127.0.0.1:0", /outside 1 … 65535/],
  ["127.0.0.1:65536", /outside 1 … 65535/],
  ["127.0.0.1:+53", /not a port number/],
  ["127.0.0.1:53x", /not a port number/],
  ["127.0.0.1: 53", /not a port number/],
  ["256.0.0.1:53", /must be an IP address/],
  ["", /a port is required/],
];

for (const [text, why] of refused) {
  test(`refuses dns_resolver "${text}" and says what is accepted`, () => {
    const problem = resolverAddressProblem(text);
    assert.equal(typeof problem, "string");
    assert.match(problem as string, why);
    assert.throws(
      () => parseResolverAddress(text),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.exitCode, 2);
        assert.match(err.message, /malformed dns_resolver/);
        assert.match(err.message, /IPv4:PORT .*\[IPv6\]:PORT .*\[fe80::1%eth0\]:53/);
        assert.ok(err.hint);
        return true;
      },
    );
  });
}
