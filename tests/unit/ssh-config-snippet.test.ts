// The `ssh-config` snippet as text: ProxyCommand with %h %p, host key options in every Host
// block, each configured guest's known_hosts file beside OpenSSH's defaults, safe quoting.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { sshConfigSnippet, type SnippetInput } from "../../src/cli/ssh-config.ts";

const BASE: SnippetInput = { command: ["/usr/local/bin/ssh2vsock"], guests: [], home: "/home/u" };

/** Each `Host` line with the option lines under it. */
function blocks(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("Host ")) out.set(line.slice(5), (current = []));
    else if (line.startsWith("    ") && current) current.push(line.trim());
    else if (line === "") current = undefined;
  }
  return out;
}

const HOST_KEY_OPTIONS = ["StrictHostKeyChecking yes", "CheckHostIP no", "ProxyUseFdpass no"];

describe("ssh-config snippet", () => {
  test("the ProxyCommand passes %h and %p, after -c FILE and --hypervisor", () => {
    const text = sshConfigSnippet({ ...BASE, configFile: "/etc/ssh2vsock/config.toml", hypervisor: "root@hv1" });
    assert.match(text, /^ {4}ProxyCommand \/usr\/local\/bin\/ssh2vsock -c \/etc\/ssh2vsock\/config\.toml --hypervisor root@hv1 proxy %h %p$/m);
  });

  test("a % in a path is doubled so ssh_config does not expand it", () => {
    const text = sshConfigSnippet({ ...BASE, configFile: "/srv/100%/c.toml" });
    assert.match(text, /-c \/srv\/100%%\/c\.toml proxy %h %p$/m);
  });

  const cases: Array<{ behaviour: string; guest: SnippetInput["guests"][number]; block?: string[] }> = [
    {
      behaviour: "a guest with its own known_hosts file gets HostKeyAlias and that file after OpenSSH's",
      guest: { name: "web1", hostname: "web1.example.com", knownHostsFile: "/etc/ssh2vsock/known_hosts" },
      block: ["HostKeyAlias web1.example.com", "UserKnownHostsFile ~/.ssh/known_hosts ~/.ssh/known_hosts2 /etc/ssh2vsock/known_hosts"],
    },
    {
      behaviour: "a file with a space is quoted",
      guest: { name: "web1", hostname: "web1", knownHostsFile: "/srv/my hosts" },
      block: ['UserKnownHostsFile ~/.ssh/known_hosts ~/.ssh/known_hosts2 "/srv/my hosts"'],
    },
    {
      behaviour: "~/.ssh/known_hosts (expanded) is not listed twice",
      guest: { name: "web1", hostname: "web1.example.com", knownHostsFile: "/home/u/.ssh/known_hosts" },
      block: ["HostKeyAlias web1.example.com", "UserKnownHostsFile ~/.ssh/known_hosts ~/.ssh/known_hosts2"],
    },
    { behaviour: "a guest named as its hostname, without a file, needs no block of its own", guest: { name: "web1", hostname: "web1" } },
  ];
  for (const c of cases) {
    test(c.behaviour, () => {
      const own = blocks(sshConfigSnippet({ ...BASE, guests: [c.guest] })).get(c.guest.name);
      if (!c.block) return assert.equal(own, undefined);
      assert.ok(own, "no Host block for the guest");
      for (const line of [...c.block, ...HOST_KEY_OPTIONS]) assert.ok(own.includes(line), `${line} in ${own.join(" | ")}`);
    });
  }

  test("a file that ssh_config cannot spell is left out, with a comment", () => {
    const text = sshConfigSnippet({ ...BASE, guests: [{ name: "web1", hostname: "web1", knownHostsFile: '/srv/a"b' }] });
    assert.match(text, /^# web1: its known_hosts_file cannot be written in ssh_config/m);
    assert.doesNotMatch(text, /a"b/);
  });

  test("every Host block sets the host key options, so no later drop-in decides them", () => {
    const text = sshConfigSnippet({ ...BASE, guests: [{ name: "web1", hostname: "web1.example.com" }, { name: "db", knownHostsFile: "/kh" }] });
    const all = blocks(text);
    assert.equal(all.size, 3);
    for (const [host, lines] of all) {
      for (const option of HOST_KEY_OPTIONS) assert.ok(lines.includes(option), `${option} under Host ${host}`);
      assert.ok(lines.some((l) => l.startsWith("UserKnownHostsFile ~/.ssh/known_hosts ~/.ssh/known_hosts2")), `UserKnownHostsFile under Host ${host}`);
    }
  });

  test("the Host patterns are every target form and the configured names", () => {
    const hosts = [...blocks(sshConfigSnippet({ ...BASE, guests: [{ name: "web1" }, { name: "bad name" }] })).keys()];
    assert.deepEqual(hosts, ["vsock/* vsock%* vsock-mux/* vsock-mux%* unix/* unix%* qemu/* qemu%* qemu:*/* qemu:*%* qemu-system/* qemu-system%* qemu-session/* qemu-session%* web1"]);
  });
});
