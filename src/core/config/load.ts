// Loads the configuration: find the file, read it, parse the TOML, validate everything,
// resolve every guest. File access is injected so tests use in-memory files.

import { parse, TomlError } from "smol-toml";
import { ConfigError } from "../errors.ts";
import { resolveDefaultHypervisor, resolveGuests, type Table } from "./resolve.ts";
import { findConfigFile, type SearchOptions } from "./search.ts";
import type { LoadedConfig } from "./types.ts";
import { assertValid } from "./validate.ts";
import { errnoText } from "../errno-text.ts";

export interface LoadOptions extends SearchOptions {
  readFile: (path: string) => string;
}

/**
 * Parses TOML text; a syntax error becomes a ConfigError whose problem carries line and column.
 * @example parseConfigText("[guests.web1]\ncid = 3\n", "c.toml") // { guests: { web1: { cid: 3 } } }
 */
export function parseConfigText(text: string, file: string): Table {
  try {
    return parse(text) as Table;
  } catch (e) {
    if (!(e instanceof TomlError)) throw e;
    // smol-toml's message carries a code excerpt after a blank line; keep the first line only.
    const reason = e.message.split("\n")[0]!.replace(/^Invalid TOML document:\s*/, "");
    throw new ConfigError(`invalid TOML in ${file}`, [{ file, path: "", message: reason, line: e.line, column: e.column }], {
      hint: `fix the syntax at line ${e.line}, column ${e.column}`,
    });
  }
}

/**
 * Finds, reads, parses, validates and resolves the configuration. No file anywhere on the
 * search path is not an error: `{ guests: [] }`, and ad-hoc targets are then local.
 * @example loadConfig({ env: process.env, cwd: process.cwd(), home: os.homedir(), exists: fs.existsSync, readFile: (p) => fs.readFileSync(p, "utf8") })
 */
export function loadConfig(opts: LoadOptions): LoadedConfig {
  const file = findConfigFile(opts);
  if (file === undefined) return { guests: [] };
  let text: string;
  try {
    text = opts.readFile(file);
  } catch (e) {
    const code = errnoText(e);
    throw new ConfigError(`cannot read ${file}: ${code}`, [{ file, path: "", message: `cannot read: ${code}` }], {
      hint: "check the file's permissions",
      cause: e,
    });
  }
  const raw = parseConfigText(text, file);
  const ctx = { env: opts.env, home: opts.home };
  assertValid(raw, file, ctx);
  const loaded: LoadedConfig = { file, guests: resolveGuests(raw, ctx) };
  const hv = resolveDefaultHypervisor(raw, ctx);
  if (hv) loaded.defaultHypervisor = hv;
  return loaded;
}
