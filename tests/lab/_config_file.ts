// The lab's ssh2vsock.toml (DESIGN.md "Configuration"): the hypervisor on its random port and
// one [guests.gN] per guest, every hop verified by the lab's known_hosts file.

export interface LabConfigInput {
  dir: string;
  hypervisorPort: number;
  knownHostsFile: string;
  privateKey: string;
  /** `loginUser` other than root (tinysshd, dropbear guests) becomes the guest's `username`. */
  guests: Array<{ name: string; cid: number; loginUser?: string }>;
}

/** TOML text; guests set `port = 22` (and `username` when not root) because they would otherwise inherit the hypervisor's. */
export function labConfigToml(input: LabConfigInput): string {
  // JSON string syntax is valid TOML basic-string syntax for these paths and names.
  const q = (s: string) => JSON.stringify(s);
  const out = [
    `# ssh2vsock configuration for the test lab in ${input.dir}`,
    "[hypervisor]",
    `hostname = "127.0.0.1"`,
    `port = ${input.hypervisorPort}`,
    `username = "root"`,
    `known_hosts_file = ${q(input.knownHostsFile)}`,
    `ssh_private_key = ${q(input.privateKey)}`,
  ];
  for (const g of input.guests) {
    out.push(
      "",
      `[guests.${g.name}]`,
      `cid = ${g.cid}`,
      `hostname = ${q(`${g.name}.lab.test`)}`,
      "port = 22",
      `known_hosts_file = ${q(input.knownHostsFile)}`,
      `ssh_private_key = ${q(input.privateKey)}`,
    );
    if (g.loginUser && g.loginUser !== "root") out.push(`username = ${q(g.loginUser)}`);
  }
  return out.join("\n") + "\n";
}
