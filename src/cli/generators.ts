// `ssh2vsock known-hosts` and `ssh2vsock sshfp`: generators from public keys to known_hosts
// lines and SSHFP records, in the exact formats OpenSSH's tools accept and print.
import type { Command } from "commander";
import { sshfpRecordsFor, sshfpZoneLine, type PublicKey } from "../core/hostkeys/index.ts";
import { certAuthorityLine, knownHostsLine } from "../core/hostkeys/known-hosts-line.ts";
import { UsageError } from "../core/errors.ts";
import { checkHostName, checkHostPattern } from "../core/hostname.ts";
import { knownHostsJson } from "./known-hosts-json.ts";
import { readPublicKeys } from "./read-public-keys.ts";
import { parsePort } from "./host-port.ts";

interface KnownHostsOptions {
  port: string;
  hash?: boolean;
  certAuthority?: boolean;
  json?: boolean;
}

// A CA line names hosts by pattern; the options that shape one host's name do not apply.
function checkCertAuthorityOptions(pattern: string, opts: KnownHostsOptions): void {
  if (opts.hash) {
    throw new UsageError("--hash does not apply to --cert-authority: a pattern cannot be hashed (OpenSSH hashes host names, never patterns)", {
      hint: "drop --hash; the @cert-authority line keeps its pattern readable",
    });
  }
  if (opts.port !== "22") {
    throw new UsageError("--port does not apply to --cert-authority: write the port into the pattern", { hint: 'e.g. "[*.example.com]:2222"' });
  }
  checkHostPattern(pattern, "PATTERN");
}

export function registerGenerators(program: Command): void {
  program
    .command("known-hosts")
    .description("print known_hosts lines for public keys read from files or stdin")
    .argument("<hostname>", "host name the keys belong to: a name, an IP address or [host]:port (with --cert-authority: a host pattern)")
    .argument("[pubkey_files...]", "public key files; - or none: stdin")
    .option("--port <n>", "SSH port; lines are written [host]:port when it is not 22", "22")
    .option("--hash", "hash the host name (fresh random salt per line), as ssh-keygen -H")
    .option("--cert-authority", "print @cert-authority lines: HOSTNAME is a pattern (wildcards, commas, !) and the keys are CA keys")
    .option("--json", 'print one JSON array of {"host","type","key","fingerprint","line"}')
    .action((hostname: string, files: string[], opts: KnownHostsOptions) => {
      // Names and options are checked before any key is read, so a bad one fails the same way with any input.
      let line: (k: PublicKey) => string;
      if (opts.certAuthority) {
        checkCertAuthorityOptions(hostname, opts);
        line = (k) => certAuthorityLine(k, hostname);
      } else {
        checkHostName(hostname, "HOSTNAME", { port: true, target: true });
        const port = parsePort(opts.port, "--port");
        line = (k) => knownHostsLine(k, hostname, { port, hash: opts.hash });
      }
      const keys = readPublicKeys(files);
      const lines = keys.map(line);
      if (opts.json) {
        process.stdout.write(JSON.stringify(lines.map((l, i) => knownHostsJson(keys[i]!, l))) + "\n");
        return;
      }
      process.stdout.write(lines.join("\n") + "\n");
    });
  program
    .command("sshfp")
    .description("print SSHFP records (SHA-256) for public keys read from files or stdin")
    .argument("<hostname>", "owner name of the records (a DNS name)")
    .argument("[pubkey_files...]", "public key files; - or none: stdin")
    .option("--json", 'print {"algorithm","fingerprint_type","fingerprint"} records as JSON')
    .action((hostname: string, files: string[], opts: { json?: boolean }) => {
      checkHostName(hostname, "HOSTNAME");
      const keys = readPublicKeys(files);
      const records = keys.flatMap((k) => sshfpRecordsFor(k));
      if (records.length === 0) throw new UsageError("none of these key types has an SSHFP algorithm");
      process.stdout.write(
        opts.json ? JSON.stringify(records) + "\n" : records.map((r) => sshfpZoneLine(hostname, r)).join("\n") + "\n",
      );
    });
}
