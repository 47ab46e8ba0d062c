// The configuration search path (-c, $SSH2VSOCK_CONFIG, XDG, /etc; never ./), path expansion and
// the redacted view `config show` prints.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../../src/core/errors.ts";
import { expandPath, findConfigFile, loadConfig, redactedView } from "../../src/core/config/index.ts";
import { configSearchPath } from "../../src/core/config/search.ts";

const ALL = [
  "/w/mine.toml",
  "/env/config.toml",
  "/xdg/ssh2vsock/config.toml",
  "/home/u/.config/ssh2vsock/config.toml",
  "/etc/xdg/ssh2vsock/config.toml",
  "/etc/ssh2vsock/config.toml",
];

function find(present: string[], env: Record<string, string> = {}, explicit?: string, cwd = "/w") {
  return findConfigFile({ explicit, env, cwd, home: "/home/u", exists: (p) => present.includes(p) });
}

describe("config search path", () => {
  const order: Array<[string, string[], Record<string, string>, string | undefined, string | undefined]> = [
    ["-c FILE first, relative to the working directory", ALL, { SSH2VSOCK_CONFIG: "/env/config.toml", XDG_CONFIG_HOME: "/xdg" }, "mine.toml", "/w/mine.toml"],
    ["then $SSH2VSOCK_CONFIG", ALL, { SSH2VSOCK_CONFIG: "/env/config.toml", XDG_CONFIG_HOME: "/xdg" }, undefined, "/env/config.toml"],
    ["then $XDG_CONFIG_HOME/ssh2vsock/config.toml", ALL, { XDG_CONFIG_HOME: "/xdg" }, undefined, "/xdg/ssh2vsock/config.toml"],
    ["then ~/.config/ssh2vsock/config.toml without XDG_CONFIG_HOME", ALL, {}, undefined, "/home/u/.config/ssh2vsock/config.toml"],
    ["then /etc/xdg/ssh2vsock/config.toml without XDG_CONFIG_DIRS", ALL.slice(4), { XDG_CONFIG_HOME: "/xdg" }, undefined, "/etc/xdg/ssh2vsock/config.toml"],
    ["then /etc/ssh2vsock/config.toml", ALL.slice(5), { XDG_CONFIG_HOME: "/xdg" }, undefined, "/etc/ssh2vsock/config.toml"],
    ["and nothing when no file exists", [], {}, undefined, undefined],
    ["-c accepts ~", ["/home/u/s.toml"], {}, "~/s.toml", "/home/u/s.toml"],
  ];
  for (const [what, present, env, explicit, expected] of order) {
    test(what, () => assert.equal(find(present, env, explicit), expected));
  }

  test("never reads ./ssh2vsock.toml from the working directory, even when nothing else exists", () => {
    assert.equal(find(["/w/ssh2vsock.toml", "/w/config.toml", "/w/ssh2vsock/config.toml"]), undefined);
    assert.equal(find(["/w/ssh2vsock.toml", "/home/u/.config/ssh2vsock/config.toml"]), "/home/u/.config/ssh2vsock/config.toml");
  });

  test("searches each directory of $XDG_CONFIG_DIRS in order, after XDG_CONFIG_HOME", () => {
    const env = { XDG_CONFIG_DIRS: "/a:/b" };
    assert.equal(find(["/b/ssh2vsock/config.toml", "/etc/ssh2vsock/config.toml"], env), "/b/ssh2vsock/config.toml");
    assert.equal(find(["/a/ssh2vsock/config.toml", "/b/ssh2vsock/config.toml"], env), "/a/ssh2vsock/config.toml");
    assert.equal(find(["/home/u/.config/ssh2vsock/config.toml", "/a/ssh2vsock/config.toml"], env), "/home/u/.config/ssh2vsock/config.toml");
    assert.equal(find(["/etc/xdg/ssh2vsock/config.toml"], env), undefined, "XDG_CONFIG_DIRS replaces /etc/xdg");
  });

  test("ignores a relative XDG_CONFIG_HOME and relative XDG_CONFIG_DIRS entries (they would depend on the working directory)", () => {
    const present = ["/w/rel/ssh2vsock/config.toml", "/w/cfg/ssh2vsock/config.toml", "/home/u/.config/ssh2vsock/config.toml"];
    assert.equal(find(present, { XDG_CONFIG_HOME: "rel" }), "/home/u/.config/ssh2vsock/config.toml");
    assert.equal(find(present.slice(0, 2), { XDG_CONFIG_HOME: "rel", XDG_CONFIG_DIRS: "cfg:./cfg" }), undefined);
  });

  test("configSearchPath lists the implicit files, none under the working directory", () => {
    assert.deepEqual(configSearchPath({ XDG_CONFIG_HOME: "/x", XDG_CONFIG_DIRS: "/d1:rel:/d2" }, "/home/u"), [
      "/x/ssh2vsock/config.toml",
      "/d1/ssh2vsock/config.toml",
      "/d2/ssh2vsock/config.toml",
      "/etc/ssh2vsock/config.toml",
    ]);
  });

  test("a missing -c FILE is a ConfigError, not a fall-through", () => {
    assert.throws(() => find(ALL, {}, "/nope.toml"), (e: unknown) => e instanceof ConfigError && /\/nope\.toml/.test(e.message));
  });

  test("a missing $SSH2VSOCK_CONFIG file is a ConfigError too", () => {
    assert.throws(() => find(ALL, { SSH2VSOCK_CONFIG: "/nope.toml" }), ConfigError);
  });

  test("no configuration file loads as no guests", () => {
    const loaded = loadConfig({ env: {}, cwd: "/w", home: "/h", exists: () => false, readFile: () => assert.fail("read") });
    assert.deepEqual(loaded, { guests: [] });
  });
});

describe("path expansion", () => {
  const env = { HOME: "/home/env", KEYS: "/srv/keys", EMPTY: "" };
  const cases: Array<[string, string]> = [
    ["~", "/home/u"],
    ["~/.ssh/known_hosts", "/home/u/.ssh/known_hosts"],
    ["$KEYS/id", "/srv/keys/id"],
    ["${KEYS}/id", "/srv/keys/id"],
    ["${KEYS}x/$EMPTY/id", "/srv/keysx//id"],
    ["$UNSET/id", "/id"],
    ["~other/x", "~other/x"],
    ["/a/~/b", "/a/~/b"],
  ];
  for (const [input, output] of cases) {
    test(`expands ${input} to ${output}`, () => assert.equal(expandPath(input, env, "/home/u"), output));
  }
});

describe("redacted view", () => {
  const toml = `
[hypervisor]
hostname = "hv1"
known_hosts_file = "/kh"
password = "hv-password"

[guests.web1]
cid = 3
hostname = "web1"
ssh_private_key = "~/.ssh/id_web1"
ssh_private_key_passphrase = "guest-passphrase"
`;
  const loaded = loadConfig({ explicit: "/w/ssh2vsock.toml", env: {}, cwd: "/w", home: "/home/u", exists: (p) => p === "/w/ssh2vsock.toml", readFile: () => toml });
  const view = redactedView(loaded.guests[0]!);
  const text = JSON.stringify(view);

  test("replaces passwords and passphrases with <redacted>", () => {
    assert.doesNotMatch(text, /hv-password|guest-passphrase/);
    const hv = view.hypervisor as Record<string, unknown>;
    assert.equal(view.ssh_private_key_passphrase, "<redacted>");
    assert.equal(hv.password, "<redacted>");
  });

  test("shows private key paths and the rest of the resolved guest under the file's names", () => {
    assert.equal(view.ssh_private_key, "/home/u/.ssh/id_web1");
    assert.equal(view.hostname, "web1");
    assert.equal(view.cid, 3);
    assert.equal(view.port, 22);
    assert.deepEqual(JSON.parse(text), view, "plain JSON-able data");
  });

  test("leaves the resolved configuration itself untouched", () => {
    assert.equal(loaded.guests[0]!.hop.auth.passphrase, "guest-passphrase");
  });
});
