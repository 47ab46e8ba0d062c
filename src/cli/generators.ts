// `ssh2vsock known-hosts` and `ssh2vsock sshfp`: generators from public keys to known_hosts
// lines and SSHFP records, in the exact formats OpenSSH's tools accept and print.
import type { Command } from "commander";
import { knownHostsLine, sshfpRecordsFor, sshfpZoneLine } from "../core/hostkeys/index.ts";
import { UsageError } from "../core/errors.ts";
import { readPublicKeys } from "./read-public-keys.ts";

export function registerGenerators(program: Command): void {
  program
    .command("known-hosts")
    .description("print known_hosts lines for public keys read from files or stdin")
    .argument("<hostname>", "host name the keys belong to")
    .argument("[pubkey_files...]", "public key files (default: stdin)")
    .option("--port <n>", "SSH port; lines are written [host]:port when it is not 22", "22")
    .option("--hash", "hash the host name (fresh random salt per line), as ssh-keygen -H")
    .action((hostname: string, files: string[], opts: { port: string; hash?: boolean }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port: expected 1…65535, got "${opts.port}"`);
      const lines = readPublicKeys(files).map((k) => knownHostsLine(k, hostname, { port, hash: opts.hash }));
      process.stdout.write(lines.join("\n") + "\n");
    });
  program
    .command("sshfp")
    .description("print SSHFP records (SHA-256) for public keys read from files or stdin")
    .argument("<hostname>", "owner name of the records")
    .argument("[pubkey_files...]", "public key files (default: stdin)")
    .option("--json", 'print {"algorithm","fingerprint_type","fingerprint"} records as JSON')
    .action((hostname: string, files: string[], opts: { json?: boolean }) => {
      const keys = readPublicKeys(files);
      const records = keys.flatMap((k) => sshfpRecordsFor(k));
      if (records.length === 0) throw new UsageError("none of these key types has an SSHFP algorithm");
      process.stdout.write(
        opts.json ? JSON.stringify(records) + "\n" : records.map((r) => sshfpZoneLine(hostname, r)).join("\n") + "\n",
      );
    });
}
