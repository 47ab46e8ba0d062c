// Real SSH programs for the handshake tests: host and client keys made at run time, OpenSSH sshd
// and dropbear started on 127.0.0.1 by PID, clients run to completion. Missing tools throw.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { accessSync, chmodSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePublicKeyText, type ParsedPublicKey } from "../../src/core/hostkeys/index.ts";

const TOOLS = {
  ssh: ["/usr/bin/ssh", "openssh-client"],
  sshKeygen: ["/usr/bin/ssh-keygen", "openssh-client"],
  sshd: ["/usr/sbin/sshd", "openssh-server"],
  dropbear: ["/usr/sbin/dropbear", "dropbear-bin"],
  dbclient: ["/usr/bin/dbclient", "dropbear-bin"],
  dropbearkey: ["/usr/bin/dropbearkey", "dropbear-bin"],
  dropbearconvert: ["/usr/bin/dropbearconvert", "dropbear-bin"],
} as const;
export type Tool = keyof typeof TOOLS;

/** Absolute path of a tool; throws naming the Debian package (these tests never skip). */
export function tool(name: Tool): string {
  const [path, pkg] = TOOLS[name];
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`handshake tests need ${path}: apt-get install ${pkg}`);
  }
  return path;
}

export interface LabKey {
  /** Private key file (OpenSSH format for sshd, dropbear format for dropbear). */
  path: string;
  /** `type base64 comment` of its public half. */
  line: string;
  key: ParsedPublicKey;
}

export type KeyKind = "ed25519" | "ecdsa" | "rsa";
export const KEY_KINDS: KeyKind[] = ["ed25519", "ecdsa", "rsa"];
const KEYGEN_ARGS: Record<KeyKind, string[]> = { ed25519: ["-t", "ed25519"], ecdsa: ["-t", "ecdsa", "-b", "256"], rsa: ["-t", "rsa", "-b", "2048"] };

export interface ClientResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Server {
  port: number;
  pid: number;
  keys: Record<KeyKind, LabKey>;
  /** What the server wrote to stderr so far (sshd -e, dropbear -E). */
  log(): string;
}

/** Finds a free TCP port on 127.0.0.1 (the race until the server binds is acceptable here). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One temp directory of keys and the processes started from it; `stop()` ends them all by PID. */
export class HandshakeLab {
  readonly dir = mkdtempSync(join(tmpdir(), "ssh2vsock-handshake-"));
  /** Host keys of the OpenSSH server, and a second key of each kind nobody serves. */
  readonly hostKeys: Record<KeyKind, LabKey>;
  readonly otherKeys: Record<KeyKind, LabKey>;
  /** The client's login key (OpenSSH format) and the same key for dbclient. */
  readonly clientKey: LabKey;
  readonly clientKeyDropbear: string;
  readonly authorizedKeys: string;
  #children = new Map<number, ChildProcess>();

  constructor() {
    for (const t of Object.keys(TOOLS) as Tool[]) tool(t);
    if (process.getuid?.() !== 0) throw new Error("handshake tests start sshd and need root");
    this.hostKeys = this.#keys("host");
    this.otherKeys = this.#keys("other");
    this.clientKey = this.#keygen("client", KEYGEN_ARGS.ed25519);
    this.clientKeyDropbear = join(this.dir, "client.dropbear");
    execFileSync(tool("dropbearconvert"), ["openssh", "dropbear", this.clientKey.path, this.clientKeyDropbear], { stdio: "ignore" });
    // Backstop for a runner that exits without after() hooks: no server may outlive the tests.
    process.once("exit", () => {
      for (const pid of this.#children.keys()) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
      rmSync(this.dir, { recursive: true, force: true });
    });
    this.authorizedKeys = join(this.dir, "authorized_keys");
    writeFileSync(this.authorizedKeys, this.clientKey.line + "\n");
    // sshd refuses to start without its privilege separation directory.
    mkdirSync("/run/sshd", { recursive: true });
    if ((statSync("/run/sshd").mode & 0o777) !== 0o755) chmodSync("/run/sshd", 0o755);
  }

  #keys(prefix: string): Record<KeyKind, LabKey> {
    return Object.fromEntries(KEY_KINDS.map((k) => [k, this.#keygen(`${prefix}_${k}`, KEYGEN_ARGS[k])])) as Record<KeyKind, LabKey>;
  }

  #keygen(name: string, args: string[]): LabKey {
    const path = join(this.dir, name);
    execFileSync(tool("sshKeygen"), ["-q", "-N", "", "-C", name, "-f", path, ...args], { stdio: "ignore" });
    const line = readFileSync(`${path}.pub`, "utf8").trim();
    return { path, line, key: parsePublicKeyText(line) };
  }

  /** Starts `sshd -D -e` with the lab's host keys plus `extra` config lines; resolves once listening. */
  async startSshd(extra: string[] = []): Promise<Server> {
    const port = await freePort();
    const config = join(this.dir, `sshd_config.${port}`);
    writeFileSync(
      config,
      [
        `ListenAddress 127.0.0.1:${port}`,
        ...KEY_KINDS.map((k) => `HostKey ${this.hostKeys[k].path}`),
        `PidFile ${join(this.dir, `sshd.${port}.pid`)}`,
        `AuthorizedKeysFile ${this.authorizedKeys}`,
        "StrictModes no",
        "UsePAM no",
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        // Recordings run several clients at once; the default would drop some of them.
        "MaxStartups 100",
        "PrintMotd no",
        // Sessions run `bash -c`, which reads $HOME/.bashrc; root's may be slow or take locks
        // (pyenv), so sessions get the lab as their home.
        `SetEnv HOME=${this.dir}`,
        // DEBUG1 names the negotiated methods, the oracle for clients that do not print them.
        "LogLevel DEBUG1",
        ...extra,
      ].join("\n") + "\n",
      { mode: 0o600 },
    );
    const child = this.#spawn(tool("sshd"), ["-D", "-f", config, "-e"]);
    const log = this.#collect(child);
    await this.#waitFor(child, () => log().includes(`Server listening on 127.0.0.1 port ${port}`), log, "sshd");
    return { port, pid: child.pid!, keys: this.hostKeys, log };
  }

  /** Starts dropbear in the foreground with its own host keys (dropbear format). */
  async startDropbear(): Promise<Server> {
    const port = await freePort();
    const keys = Object.fromEntries(
      KEY_KINDS.map((k) => {
        const path = join(this.dir, `dropbear_${k}_${port}`);
        const args = k === "ecdsa" ? ["-t", "ecdsa", "-s", "256"] : k === "rsa" ? ["-t", "rsa", "-s", "2048"] : ["-t", "ed25519"];
        execFileSync(tool("dropbearkey"), [...args, "-f", path], { stdio: "ignore" });
        const out = execFileSync(tool("dropbearkey"), ["-y", "-f", path], { encoding: "utf8" });
        const line = out.split("\n").find((l) => /^(ssh-|ecdsa-)/.test(l))!.trim();
        return [k, { path, line, key: parsePublicKeyText(line) }];
      }),
    ) as Record<KeyKind, LabKey>;
    const args = ["-F", "-E", "-p", `127.0.0.1:${port}`, "-P", join(this.dir, `dropbear.${port}.pid`), ...KEY_KINDS.flatMap((k) => ["-r", keys[k].path])];
    const child = this.#spawn(tool("dropbear"), args);
    const log = this.#collect(child);
    await this.#waitFor(child, () => this.#accepts(port), log, "dropbear");
    return { port, pid: child.pid!, keys, log };
  }

  /** Runs a client to its end (killed after `timeoutMs`); HOME is the lab so nothing lands in /root. */
  run(file: string, args: string[], timeoutMs = 30_000): Promise<ClientResult> {
    const child = this.#spawn(file, args, { HOME: this.dir });
    let stdout = "";
    const stderr = this.#collect(child);
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString("latin1")));
    const timer = setTimeout(() => this.#kill(child), timeoutMs);
    return new Promise((resolve) =>
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr: stderr() });
      }),
    );
  }

  /** Ends every process this lab started (by PID) and removes its directory. */
  async stop(): Promise<void> {
    await Promise.all([...this.#children.values()].map((c) => this.#kill(c)));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Ends one server early (recordings are done with it). */
  async stopServer(server: Server): Promise<void> {
    const child = this.#children.get(server.pid);
    if (child) await this.#kill(child);
  }

  #spawn(file: string, args: string[], env: Record<string, string> = {}): ChildProcess {
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    if (child.pid === undefined) throw new Error(`could not start ${file}`);
    this.#children.set(child.pid, child);
    child.on("exit", () => this.#children.delete(child.pid!));
    return child;
  }

  async #kill(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once("exit", () => r()));
    try {
      process.kill(child.pid!, "SIGTERM");
    } catch {
      return; // already gone
    }
    await Promise.race([gone, sleep(3000).then(() => process.kill(child.pid!, "SIGKILL"))]).catch(() => {});
  }

  #collect(child: ChildProcess): () => string {
    let text = "";
    // Kept whole: recordDbclient reads sshd's log from an offset (a few kB per connection).
    child.stderr!.on("data", (d: Buffer) => (text += d.toString("latin1")));
    return () => text;
  }

  async #waitFor(child: ChildProcess, ready: () => boolean | Promise<boolean>, log: () => string, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (await ready()) return;
      if (child.exitCode !== null) break;
      await sleep(20);
    }
    await this.#kill(child);
    throw new Error(`${what} did not start listening:\n${log()}`);
  }

  #accepts(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const s = createConnection({ host: "127.0.0.1", port });
      s.once("connect", () => (s.destroy(), resolve(true)));
      s.once("error", () => resolve(false));
    });
  }
}
