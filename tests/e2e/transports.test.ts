// Every guest transport end to end: vsock, hybrid vsock (vsock-mux), AF_UNIX and libvirt
// domains, through the remote lab hypervisor and in local mode, driven by real OpenSSH and tunnel.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { GARBAGE_REPLY, startLab, type Lab } from "../lab/lab.ts";
import { cliShell, runCli, runCommand, startCli, type CliResult } from "./_cli.ts";
import { guestBlock, hypervisorBlock, sshThroughTunnel, sshViaProxy, writeConfig } from "./_fixtures.ts";

let lab: Lab;
/** An empty working directory and an empty HOME: nothing configured anywhere. */
let emptyCwd: string;
let emptyHome: string;
before(async () => {
  lab = await startLab({ guests: 3, guestVariants: { g3: "not-listening" } });
  emptyCwd = join(lab.dir, "empty-cwd");
  emptyHome = join(lab.dir, "empty-home");
  mkdirSync(emptyCwd);
  mkdirSync(emptyHome);
});
after(async () => {
  await lab?.stop();
});

/** The environment of local mode: no config found, the lab's socat/virsh stand-ins first on PATH. */
function localEnv(path = `${lab.binDir}:${process.env.PATH}`): Record<string, string> {
  return { HOME: emptyHome, PATH: path, SSH2VSOCK_CONFIG: "", XDG_CONFIG_HOME: "" };
}

/** scp's spelling: `%` for the first `/` (and no leading `/` in the path: it is absolute anyway). */
const pct = (form: string, path: string) => `${form}%${path.replace(/^\//, "")}`;

/** Real OpenSSH through `ProxyCommand ssh2vsock proxy %h`, checking the guest key as `alias`. */
function sshProxy(host: string, alias: string, opts: { local?: boolean } = {}): Promise<CliResult> {
  const proxy = opts.local ? `${cliShell()} proxy %h` : `${cliShell()} -c ${lab.configFile} proxy %h`;
  return runCommand(
    "ssh",
    [...sshViaProxy(lab, alias, proxy, `root@${host}`), "ip netns identify"],
    opts.local ? { env: localEnv(), cwd: emptyCwd } : {},
  );
}

const ns = (name: string) => lab.guests.find((g) => g.name === name)!.netns;

function assertRelayFailure(r: CliResult, message: RegExp): void {
  assert.equal(r.code, 6, r.stderr);
  assert.equal(r.stdout, "", "stdout carries only the stream");
  const lines = r.stderr.trim().split("\n");
  assert.match(lines[0]!, /^ssh2vsock: /);
  assert.match(lines[0]!, message);
  assert.match(lines[1] ?? "", /^hint: /, r.stderr);
}

for (const mode of ["hypervisor", "local"] as const) {
  const local = mode === "local";
  describe(`real OpenSSH with ProxyCommand ssh2vsock proxy %h (${mode})`, () => {
    test("vsock%CID reaches the guest by CID", async () => {
      const r = await sshProxy(`vsock%${lab.guests[0]!.cid}`, "g1", { local });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), ns("g1"));
    });

    test("unix%PATH reaches the guest whose SSH the Unix socket carries", async () => {
      const r = await sshProxy(pct("unix", lab.sockets.ssh.g2!), "g2", { local });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), ns("g2"));
    });

    test("vsock-mux%PATH reaches the guest through the hybrid vsock CONNECT/OK handshake", async () => {
      const r = await sshProxy(pct("vsock-mux", lab.sockets.mux.g1!), "g1", { local });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), ns("g1"));
    });

    test("qemu%DOMAIN reads the CID from virsh dumpxml (qemu:///system)", async () => {
      const r = await sshProxy("qemu%g2", "g2", { local });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), ns("g2"));
    });

    test("qemu%DOMAIN falls back to qemu:///session, and qemu:session% asks it directly", async () => {
      for (const host of ["qemu%s-g1", "qemu:session%s-g1"]) {
        const r = await sshProxy(host, "g1", { local });
        assert.equal(r.code, 0, `${host}: ${r.stderr}`);
        assert.equal(r.stdout.trim(), ns("g1"));
      }
    });
  });

  describe(`relay failures are exit 6 with one line and a hint (${mode})`, () => {
    const proxy = (target: string) =>
      local
        ? runCli(["proxy", target], { env: localEnv(), cwd: emptyCwd, input: "" })
        : runCli(["-c", lab.configFile, "proxy", target], { input: "" });

    test("a hybrid vsock socket that refuses CONNECT (guest not listening)", async () => {
      assertRelayFailure(await proxy(`vsock-mux${lab.sockets.mux.g3}`), /refused CONNECT 22/);
    });

    test("a hybrid vsock socket that answers garbage shows what it received", async () => {
      const r = await proxy(`vsock-mux${lab.sockets.muxGarbage}`);
      assertRelayFailure(r, /answered "HTTP\/1\.1 400 Bad Request\\r\\n\\x01junk\\n" instead of "OK <port>"/);
      assert.ok(GARBAGE_REPLY.startsWith("HTTP/1.1 400"));
    });

    test("a Unix socket that does not exist", async () => {
      assertRelayFailure(await proxy(`unix${lab.dir}/no-such.sock`), /no socket at \/tmp\/.*no-such\.sock/);
    });

    test("an unknown libvirt domain", async () => {
      assertRelayFailure(await proxy("qemu/nosuchdomain"), /no libvirt domain "nosuchdomain".*qemu:\/\/\/system.*qemu:\/\/\/session/);
    });

    test("a libvirt domain without a vsock device", async () => {
      assertRelayFailure(await proxy(`qemu/${lab.libvirt.noVsock}`), /libvirt domain "novsock" .* has no vsock device/);
    });
  });
}

describe("local mode", () => {
  test("zero-config: `proxy vsock/3` from an empty directory with an empty HOME carries the guest's SSH", async () => {
    const r = await runCli(["proxy", `vsock/${lab.guests[0]!.cid}`], { env: localEnv(), cwd: emptyCwd, input: "" });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^SSH-2\.0-OpenSSH/);
  });

  test("a local host without socat is exit 6 naming socat, with a hint", async () => {
    const noTools = join(lab.dir, "no-tools");
    mkdirSync(noTools, { recursive: true });
    const r = await runCli(["proxy", "vsock/3"], { env: localEnv(noTools), cwd: emptyCwd, input: "" });
    assertRelayFailure(r, /socat is not installed on local host/);
  });

  test("a local unknown CID is exit 6 with socat's own reason", async () => {
    const r = await runCli(["proxy", "vsock/99"], { env: localEnv(), cwd: emptyCwd, input: "" });
    assertRelayFailure(r, /No such device/);
  });

  test("a local host without virsh is exit 6 naming virsh, with a hint", async () => {
    const noTools = join(lab.dir, "no-tools");
    mkdirSync(noTools, { recursive: true });
    const r = await runCli(["--hypervisor", "local", "proxy", "qemu/g1"], { env: localEnv(noTools), cwd: emptyCwd, input: "" });
    assertRelayFailure(r, /virsh is not installed on local host/);
  });
});

describe("a libvirt domain name cannot inject shell on the hypervisor", () => {
  test("`qemu/g1;touch FILE` is refused before anything is sent (exit 2), and runs nothing", async () => {
    const marker = join(lab.dir, "injected");
    const r = await runCli(["-c", lab.configFile, "proxy", `qemu/g1;touch ${marker}`], { input: "" });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /a libvirt domain is a name .*, a UUID or an ID/);
    const { existsSync } = await import("node:fs");
    assert.equal(existsSync(marker), false);
  });
});

describe("tunnel to configured guests of every transport", () => {
  const guests = () =>
    [
      ["c-vsock", "g1", {}],
      ["c-unix", "g2", { cid: "", unix_socket: JSON.stringify(lab.sockets.ssh.g2) }],
      ["c-mux", "g1", { cid: "", vsock_mux: JSON.stringify(lab.sockets.mux.g1) }],
      ["c-domain", "g2", { cid: "", domain: `"g2"` }],
    ] as const;
  const configText = (hv: string) =>
    hv +
    guests()
      .map(([name, guest, extra]) => guestBlock(lab, guest, extra).replace(`[guests.${guest}]`, `[guests.${name}]`))
      .join("\n");

  for (const mode of ["hypervisor", "local"] as const) {
    test(`ssh through each tunnel lands in the right guest (${mode})`, async () => {
      const hv = mode === "local" ? "[hypervisor]\nlocal = true\n" : hypervisorBlock(lab);
      const cfg = writeConfig(lab, `transports-${mode}`, configText(hv));
      const env = mode === "local" ? localEnv() : undefined;
      const cli = startCli(["tunnel", "-c", cfg, "--json"], env ? { env } : {});
      try {
        const lines = (await cli.lines(4)).map((l) => JSON.parse(l) as { name: string; port: number });
        assert.deepEqual(lines.map((l) => l.name).sort(), ["c-domain", "c-mux", "c-unix", "c-vsock"]);
        for (const [name, guest] of guests()) {
          const port = lines.find((l) => l.name === name)!.port;
          const r = await runCommand("ssh", [...sshThroughTunnel(lab, port, guest), "ip netns identify"]);
          assert.equal(r.code, 0, `${name}: ${r.stderr}`);
          assert.equal(r.stdout.trim(), ns(guest), name);
        }
      } finally {
        await cli.stop("SIGTERM");
      }
    });
  }
});

describe("proxy verifying a configured guest behind a local Unix socket", () => {
  // The inspected proxy over a directly opened socket (no hypervisor channel): the guest's end
  // must end the proxy, as it does for the plain relay of an ad-hoc unix% target above.
  test("real ssh gets in, the guest's key is verified by the inspector, and the proxy exits", async () => {
    const cfg = writeConfig(
      lab,
      "local-unix-verified",
      `[hypervisor]\nlocal = true\n\n[guests.u2]\nunix_socket = ${JSON.stringify(lab.sockets.ssh.g2!)}\nhostname = "g2.lab.test"\nknown_hosts_file = ${JSON.stringify(lab.knownHostsFile)}\n`,
    );
    const r = await runCommand(
      "ssh",
      [...sshViaProxy(lab, "g2", `${cliShell()} -v -c ${cfg} proxy %h %p`, "root@u2"), "ip netns identify"],
      { env: localEnv(), cwd: emptyCwd, timeoutMs: 30_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), ns("g2"));
    assert.match(r.stderr, /verified \[guest=u2\]/);
  });
});
