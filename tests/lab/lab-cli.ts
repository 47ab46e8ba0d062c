// `npm run lab`: starts a lab for manual exploration, prints where everything is and the
// commands to try, and tears it down on SIGINT/SIGTERM.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startLab, type GuestVariant, type LabOptions } from "./lab.ts";

const usage = `usage: bun tests/lab/lab-cli.ts [--guests N] [--certificates] [--variant gN=VARIANT]...
variants: default, chacha-only, rsa-only, not-listening, no-forwarding, tinysshd, dropbear,
  host-cert, host-cert-ecdsa, host-cert-rsa, host-cert-other-ca, host-cert-expired, host-cert-not-yet-valid,
  host-cert-wrong-principals, host-cert-user (these need --certificates)`;

function parseArgs(argv: string[]): LabOptions {
  const opts: LabOptions = { guestVariants: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${usage}`);
      return v;
    };
    if (arg === "--guests") opts.guests = Number(value());
    else if (arg === "--certificates") opts.certificates = true;
    else if (arg === "--variant") {
      const [name, variant] = value().split("=");
      if (!name || !variant) throw new Error(`--variant wants gN=VARIANT\n${usage}`);
      opts.guestVariants![name] = variant as GuestVariant;
    } else if (arg === "-h" || arg === "--help") {
      console.log(usage);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}\n${usage}`);
  }
  return opts;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const lab = await startLab(opts);
  const hv = lab.hypervisor;
  const ssh = `ssh -F /dev/null -o UserKnownHostsFile=${lab.knownHostsFile} -o StrictHostKeyChecking=yes -i ${lab.clientKey}`;
  const first = lab.guests.find((g) => g.listening);
  const name = first?.name ?? "g1";
  const secretsFile = join(lab.dir, "secrets.txt");
  writeFileSync(secretsFile, `passphrase ${lab.passphrase}\npassword ${lab.passwordUser} ${lab.password}\n`, { mode: 0o600 });
  const lines = [
    `lab ready in ${Date.now() - started} ms: ${lab.dir}`,
    "",
    `config       ${lab.configFile}`,
    `known_hosts  ${lab.knownHostsFile}`,
    `client keys  ${lab.clientKey} (plain), ${lab.clientKeyEncrypted} (passphrase), ${lab.clientKeyPem} (PEM)`,
    `secrets      ${secretsFile} (mode 0600: the key passphrase and ${lab.passwordUser}'s guest password)`,
    `hypervisor   root@127.0.0.1:${hv.port} (sshd pid ${hv.pid}, log ${hv.sshdLog})`,
    ...lab.guests.map(
      (g) =>
        `guest ${g.name}     cid ${g.cid}, netns ${g.netns}, ${g.variant}, ` +
        (g.listening ? `${g.server} log ${g.sshdLog}, login ${g.loginUser}, service ${g.service?.target}` : "nothing listening"),
    ),
    ...(lab.certificates ? [`CAs          ${lab.certificates.dir} (host_ca, user_ca, other_ca; servers trust user_ca)`] : []),
    `unix/        ${Object.values(lab.sockets.ssh).join(", ")}`,
    `vsock-mux/   ${Object.values(lab.sockets.mux).join(", ")}`,
    `qemu/        ${lab.libvirt.system.map((d) => d.name).join(", ")} (system), ${lab.libvirt.session.map((d) => d.name).join(", ")} (session), ${lab.libvirt.noVsock} (no vsock)`,
    "",
    "try:",
    `  ${ssh} -p ${hv.port} root@127.0.0.1 socat - VSOCK-CONNECT:${first?.cid ?? 3}:22 </dev/null`,
    `  bun src/main.ts config show -c ${lab.configFile}`,
    `  bun src/main.ts doctor ${name} -c ${lab.configFile}`,
    `  bun src/main.ts tunnel -c ${lab.configFile}`,
    `  ${ssh} -o HostKeyAlias=${name}.lab.test -o ProxyCommand='bun src/main.ts proxy %h %p -c ${lab.configFile}' root@${name}`,
    `  ${ssh} -o HostKeyAlias=${name}.lab.test -o ProxyCommand='bun src/main.ts proxy %h %p -c ${lab.configFile}' root@vsock/${first?.cid ?? 3}`,
    "",
    "Ctrl-C stops the lab.",
  ];
  console.log(lines.join("\n"));

  // Signal handlers alone do not keep the event loop alive.
  const keepAlive = setInterval(() => {}, 1 << 30);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the lab…`);
    await lab.stop();
    clearInterval(keepAlive);
    console.log("lab stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((err) => {
  console.error(`lab: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
