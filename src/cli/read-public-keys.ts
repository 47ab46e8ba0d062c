// Reads public keys for the generator commands from files, or from stdin when none is given;
// one key per non-blank, non-comment line (authorized_keys-style files and .pub files alike).
import { readFileSync } from "node:fs";
import { parsePublicKeyText, type PublicKey } from "../core/hostkeys/index.ts";
import { UsageError } from "../core/errors.ts";

export function readPublicKeys(files: string[]): PublicKey[] {
  const inputs = files.length > 0 ? files.map((f) => ({ name: f, text: readText(f) })) : [{ name: "stdin", text: readFileSync(0, "utf8") }];
  const keys: PublicKey[] = [];
  for (const { name, text } of inputs) {
    text.split("\n").forEach((line, i) => {
      const t = line.trim();
      if (!t || t.startsWith("#")) return;
      try {
        keys.push(parsePublicKeyText(t));
      } catch (e) {
        throw new UsageError(`${name}:${i + 1}: not a public key: ${(e as Error).message}`, {
          hint: "give OpenSSH public key files (KEY.pub), not private keys",
        });
      }
    });
  }
  if (keys.length === 0) throw new UsageError("no public keys given", { hint: "pass KEY.pub files or pipe keys on stdin" });
  return keys;
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
