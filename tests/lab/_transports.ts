// The lab's extra transports on the hypervisor side: the libvirt stand-in (virsh over the test
// driver) and the Unix sockets (guest SSH, hybrid vsock, garbage) that lab.ts starts.

import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Cleanup } from "./_cleanup.ts";
import type { LabTools } from "./_system.ts";
import { UnixBridge, type BridgeMode } from "./_unix_bridges.ts";
import { testDriverXml, virshWrapperScript, type LabDomain } from "./_virsh_wrapper.ts";

export interface LabSockets {
  /** Per guest name: a socket carrying that guest's SSH (unix/PATH). */
  ssh: Record<string, string>;
  /** Per guest name: a hybrid vsock socket into that guest (vsock-mux/PATH); refuses closed ports. */
  mux: Record<string, string>;
  /** A hybrid vsock socket that answers GARBAGE_REPLY to CONNECT. */
  muxGarbage: string;
}

export interface LabLibvirt {
  system: LabDomain[];
  session: LabDomain[];
  /** A qemu:///system domain without a vsock device. */
  noVsock: string;
}

/** The virsh stand-in and its test-driver XML: guests by name (system) and as `s-NAME` (session). */
export async function writeVirsh(tools: LabTools, dir: string, specs: Array<{ name: string; cid: number }>): Promise<LabLibvirt> {
  const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
  const noVsock = "novsock";
  const system: LabDomain[] = [
    ...specs.map((g, i) => ({ name: g.name, uuid: uuid(i + 1), cid: g.cid })),
    { name: noVsock, uuid: uuid(999) },
  ];
  const session: LabDomain[] = specs.map((g, i) => ({ name: `s-${g.name}`, uuid: uuid(1001 + i), cid: g.cid }));
  const systemXml = join(dir, "libvirt-system.xml");
  const sessionXml = join(dir, "libvirt-session.xml");
  await writeFile(systemXml, testDriverXml(system));
  await writeFile(sessionXml, testDriverXml(session));
  const virsh = join(dir, "bin", "virsh");
  await writeFile(virsh, virshWrapperScript({ realVirsh: tools.virsh, systemXml, sessionXml }));
  await chmod(virsh, 0o755);
  return { system, session, noVsock };
}

/** One SSH socket and one hybrid vsock socket per guest, and the garbage-answering one. */
export async function startBridges(
  tools: LabTools,
  id: string,
  specs: Array<{ name: string; netns: string }>,
  cleanup: Cleanup,
): Promise<LabSockets> {
  // OpenSSH lower-cases %h, and mkdtemp's suffix is mixed-case: the sockets live in a
  // lower-case directory of their own so `unix%PATH` survives a ProxyCommand.
  const sockDir = join("/tmp", `s2v${id}`);
  await mkdir(sockDir, { mode: 0o700 });
  cleanup.dirs.push(sockDir);
  const start = async (path: string, mode: BridgeMode) => {
    const b = new UnixBridge(tools, path, mode);
    cleanup.bridges.push(b);
    await b.start();
    return path;
  };
  const ssh: Record<string, string> = {};
  const mux: Record<string, string> = {};
  for (const g of specs) {
    ssh[g.name] = await start(join(sockDir, `${g.name}.ssh.sock`), { kind: "ssh", netns: g.netns });
    mux[g.name] = await start(join(sockDir, `${g.name}.mux.sock`), { kind: "mux", netns: g.netns });
  }
  const muxGarbage = await start(join(sockDir, "garbage.mux.sock"), { kind: "garbage" });
  return { ssh, mux, muxGarbage };
}
