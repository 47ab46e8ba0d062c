// The hypervisor's `virsh` in the lab: `-c qemu:///system|session` become libvirt's own test
// driver over XML files describing lab domains, so `virsh dumpxml` answers as on a KVM host.

/** A libvirt domain of the lab: a CID (a lab guest's) or no vsock device at all. */
export interface LabDomain {
  name: string;
  uuid: string;
  cid?: number;
}

/** The test driver's node XML for `domains` (every domain running, as dumpxml expects). */
export function testDriverXml(domains: LabDomain[]): string {
  const one = (d: LabDomain) =>
    [
      "  <domain type='test'>",
      `    <name>${d.name}</name>`,
      `    <uuid>${d.uuid}</uuid>`,
      "    <memory>65536</memory>",
      "    <vcpu>1</vcpu>",
      "    <os><type>hvm</type></os>",
      "    <devices>",
      ...(d.cid === undefined ? [] : [`      <vsock model="virtio"><cid address="${d.cid}" auto="no"/></vsock>`]),
      "    </devices>",
      "  </domain>",
    ].join("\n");
  return `<node>\n${domains.map(one).join("\n")}\n</node>\n`;
}

/** Bash source of the wrapper: maps the qemu URIs to test:///FILE, passes everything else through. */
export function virshWrapperScript(opts: { realVirsh: string; systemXml: string; sessionXml: string }): string {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  return `#!/bin/bash
# ssh2vsock lab: virsh stand-in (tests/lab/_virsh_wrapper.ts generated it).
args=()
for a in "$@"; do
  case $a in
    qemu:///system) args+=("test://"${q(opts.systemXml)}) ;;
    qemu:///session) args+=("test://"${q(opts.sessionXml)}) ;;
    --connect=qemu:///system) args+=("--connect=test://"${q(opts.systemXml)}) ;;
    --connect=qemu:///session) args+=("--connect=test://"${q(opts.sessionXml)}) ;;
    *) args+=("$a") ;;
  esac
done
exec ${q(opts.realVirsh)} "\${args[@]}"
`;
}
