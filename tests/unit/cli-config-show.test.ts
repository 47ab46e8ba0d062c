// `config show`'s document: the config file's own attribute names and units (snake_case,
// seconds), guests keyed by name, secrets redacted, and something to see without guests.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { attributeNames, resolveTarget } from "../../src/core/config/index.ts";
import { configView, redactedView } from "../../src/core/config/redact.ts";
import { HV, HV2, loadToml, WEB1 } from "./_config-fixtures.ts";

const TOML = `[hypervisor]
hostname = "hv1.example.com"
known_hosts_file = "/kh"
password = "hv-secret"
connect_timeout = 7.5
keepalive_interval = 20

[guests.web1]
cid = 3
hostname = "web1.example.com"
ssh_private_key = "~/.ssh/id_web1"
ssh_private_key_passphrase = "guest-secret"
listen = "127.0.0.1:2201"
shutdown_timeout = 2.5
`;

type Doc = Record<string, unknown>;

/** Every key of a block that is meant to be read as a config attribute. */
function attributeKeys(block: Doc): string[] {
  return Object.keys(block).filter((k) => k !== "origins" && k !== "hypervisor");
}

describe("config show", () => {
  const loaded = loadToml(TOML);
  const doc = configView(loaded.file, loaded.defaultHypervisor, loaded.guests) as Doc;
  const web1 = (doc.guests as Record<string, Doc>).web1!;
  const hv = web1.hypervisor as Doc;

  test("keys a guest by its name, as [guests.NAME] does", () => {
    assert.deepEqual(Object.keys(doc.guests as Doc), ["web1"]);
    assert.equal(doc.file, "/w/ssh2vsock.toml");
  });

  test("names every attribute as the config file does", () => {
    const guestNames = new Set(attributeNames("guest"));
    const hvNames = new Set(attributeNames("hypervisor"));
    for (const k of attributeKeys(web1)) assert.ok(guestNames.has(k), `guest key ${k} is not a config attribute`);
    for (const k of attributeKeys(hv)) assert.ok(hvNames.has(k), `hypervisor key ${k} is not a config attribute`);
  });

  test("writes durations in seconds, as the file does, shutdown_timeout included", () => {
    assert.equal(hv.connect_timeout, 7.5);
    assert.equal(web1.connect_timeout, 7.5, "inherited per attribute");
    assert.equal(web1.keepalive_interval, 20);
    assert.equal(web1.shutdown_timeout, 2.5);
    const plain = configView(undefined, undefined, loadToml(`${HV}\n${WEB1}`).guests) as Doc;
    assert.equal((plain.guests as Record<string, Doc>).web1!.shutdown_timeout, 10, "the default");
  });

  test("writes listen and target as HOST:PORT strings", () => {
    assert.equal(web1.listen, "127.0.0.1:2201");
    assert.equal(web1.target, "127.0.0.1:22");
  });

  test("replaces passwords and passphrases, keeps key paths", () => {
    const text = JSON.stringify(doc);
    assert.doesNotMatch(text, /hv-secret|guest-secret/);
    assert.equal(hv.password, "<redacted>");
    assert.equal(web1.ssh_private_key_passphrase, "<redacted>");
    assert.equal(web1.ssh_private_key, "/home/u/.ssh/id_web1");
  });

  test("says where inherited groups and the hypervisor came from", () => {
    assert.deepEqual(web1.origins, { verification: "hypervisor", authentication: "guests.web1", target: "default", mode: "default" });
    const g = loadToml(`${HV}\n${HV2}mode = "forward"\n\n${WEB1}hypervisor = "hv2"\n`).guests[0]!;
    assert.equal(((redactedView(g).hypervisor as Doc).origins as Doc).hypervisor, "hypervisors.hv2");
  });

  test("shows the default hypervisor when no guest is configured", () => {
    const onlyHv = loadToml(HV);
    const d = configView(onlyHv.file, onlyHv.defaultHypervisor, onlyHv.guests) as Doc;
    assert.deepEqual(d.guests, {});
    assert.equal((d.hypervisor as Doc).hostname, "hv1.example.com");
    assert.equal((d.hypervisor as Doc).known_hosts_file, "/kh");
  });

  test("shows a local hypervisor without SSH attributes when there is no file", () => {
    const local = resolveTarget("vsock/3", { guests: [] }, { env: {}, home: "/home/u" }).hypervisor;
    const d = configView(undefined, { ...local, name: "local" }, []) as Doc;
    assert.equal(d.file, null);
    assert.deepEqual(d.hypervisor, { local: true, socat: "socat", origins: { hypervisor: "default" } });
  });
});
