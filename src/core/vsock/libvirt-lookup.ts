// Finds a libvirt domain's vsock CID by running `virsh dumpxml` where the domain lives (over the
// verified hypervisor session, or locally); `qemu/` asks qemu:///system first, then session.
import type { CommandRunner, CommandStream } from "./command-stream.ts";
import { RelayError, UsageError } from "../errors.ts";
import { escapePeerText } from "../peer-text.ts";
import { libvirtDomainProblem } from "./libvirt-domain.ts";
import { parseLibvirtVsock } from "./libvirt-cid.ts";
import { lastLine } from "./unix-errors.ts";

/** The XML of a domain is a few KiB; anything far larger is not what we asked for. */
const OUTPUT_LIMIT = 4 * 1024 * 1024;

export interface LibvirtLookup {
  runner: CommandRunner;
  domain: string;
  uri: "system" | "session" | "any";
  /** Names the guest in messages. */
  label: string;
  timeoutMs: number;
}

export interface CommandOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Reads a command's whole stdout (stdin closed at once) and waits for its exit, within `timeoutMs`. */
export function collectOutput(cmd: CommandStream, timeoutMs: number, what: string): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      cmd.kill();
      reject(new RelayError(`${what} did not finish within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    cmd.stream.on("data", (d: Buffer) => {
      size += d.length;
      if (size <= OUTPUT_LIMIT) chunks.push(d);
    });
    cmd.stream.on("error", () => {});
    cmd.stream.end();
    void cmd.exited.then((code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(chunks).toString("utf8"), stderr: cmd.stderr() });
    });
  });
}

type Attempt = { uri: string; outcome: "not-found" | "unreachable"; reason: string };

/**
 * Returns the domain's CID. RelayError (exit 6) for: virsh missing, no such domain (naming
 * what each URI said), a domain without `<vsock>`, or a vsock CID not assigned yet.
 */
export async function lookupLibvirtCid(l: LibvirtLookup): Promise<{ cid: number; uri: string }> {
  // Targets and the config are checked already; this keeps every caller to the same rule.
  const problem = libvirtDomainProblem(l.domain);
  if (problem !== undefined) throw new UsageError(`${l.label}: bad libvirt domain ${escapePeerText(JSON.stringify(l.domain), 120)}: ${problem}`);
  const uris = l.uri === "any" ? ["qemu:///system", "qemu:///session"] : [`qemu:///${l.uri}`];
  const attempts: Attempt[] = [];
  for (const uri of uris) {
    const out = await runVirsh(l, uri);
    if (out.code === 0) return { cid: cidFrom(l, uri, out.stdout), uri };
    const reason = lastLine(out.stderr) || `exit status ${out.code}`;
    if (out.code === 127 || /virsh: (command )?not found|virsh: No such file/i.test(out.stderr)) throw virshMissing(l);
    const notFound = /failed to get domain|Domain not found|no domain with matching/i.test(out.stderr);
    attempts.push({ uri, outcome: notFound ? "not-found" : "unreachable", reason: reason.replace(/^error:\s*/, "") });
  }
  const tried = attempts.map((a) => `${a.uri}: ${a.reason}`).join("; ");
  if (attempts.some((a) => a.outcome === "not-found")) {
    return Promise.reject(
      new RelayError(`${l.label}: no libvirt domain ${JSON.stringify(l.domain)} on ${l.runner.where} (${tried})`, {
        hint: `list the domains with \`virsh -c ${uris[0]} list --all\`; DOMAIN is a name, UUID or ID`,
      }),
    );
  }
  return Promise.reject(
    new RelayError(`${l.label}: cannot reach libvirt on ${l.runner.where} (${tried})`, {
      hint: "is libvirtd (or virtqemud) running, and may this user connect to it?",
    }),
  );
}

async function runVirsh(l: LibvirtLookup, uri: string): Promise<CommandOutput> {
  // `--domain=` keeps a DOMAIN that starts with "-" from being read as an option.
  const argv = ["virsh", "-c", uri, "dumpxml", `--domain=${l.domain}`];
  let cmd: CommandStream;
  try {
    cmd = await l.runner.run(argv);
  } catch (e) {
    if (((e as RelayError).cause as NodeJS.ErrnoException | undefined)?.code === "ENOENT") throw virshMissing(l);
    throw e;
  }
  return collectOutput(cmd, l.timeoutMs, `${l.label}: \`virsh -c ${uri} dumpxml\` on ${l.runner.where}`);
}

function cidFrom(l: LibvirtLookup, uri: string, xml: string): number {
  const vsock = parseLibvirtVsock(xml);
  const where = `libvirt domain ${JSON.stringify(l.domain)} (${uri} on ${l.runner.where})`;
  switch (vsock.kind) {
    case "cid":
      return vsock.cid;
    case "no-vsock":
      throw new RelayError(`${l.label}: ${where} has no vsock device`, {
        hint: `add <vsock model='virtio'><cid auto='yes'/></vsock> to its <devices> (virsh edit ${l.domain}) and restart it`,
      });
    case "no-address":
      throw new RelayError(`${l.label}: ${where} has a vsock device but no CID assigned`, {
        hint: "a CID with auto='yes' is assigned when the domain starts: is it running?",
      });
  }
}

function virshMissing(l: LibvirtLookup): RelayError {
  return new RelayError(`${l.label}: virsh is not installed on ${l.runner.where}`, {
    hint: "install libvirt's client (Debian: apt-get install libvirt-clients), or name the guest by CID (vsock/CID)",
  });
}
