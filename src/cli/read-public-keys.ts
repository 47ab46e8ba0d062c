// Reads public keys for the generator commands from files, or from stdin when none is given or
// a file is `-`; one key per non-blank, non-comment line (authorized_keys-style and .pub alike).
import { readFileSync } from "node:fs";
import { parsePublicKeyText, type PublicKey } from "../core/hostkeys/index.ts";
import { UsageError } from "../core/errors.ts";
import { errnoText } from "../core/errno-text.ts";

export function readPublicKeys(files: string[]): PublicKey[] {
  const named = files.length > 0 ? files : ["-"];
  const inputs = named.map((f) => (f === "-" ? { name: "stdin", text: readText(0, "stdin") } : { name: f, text: readText(f, f) }));
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
  if (keys.length === 0) throw new UsageError("no public keys given", { hint: "pass KEY.pub files, or - (or nothing) to read keys on stdin" });
  return keys;
}

function readText(source: string | 0, name: string): string {
  try {
    return readFileSync(source, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${name}: ${errnoText(e)}`);
  }
}
