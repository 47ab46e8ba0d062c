// `scripts/man [FILE]`: ssh2vsock(1) from the command tree, written to dist/ssh2vsock.1 or FILE.
// Dated by SOURCE_DATE_EPOCH when set (scripts/release sets the commit's), so a rebuild is identical.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import pkg from "../package.json" with { type: "json" };
import { manPage } from "../src/cli/man-page.ts";
import { buildProgram } from "../src/main.ts";

const out = process.argv[2] ?? new URL("../dist/ssh2vsock.1", import.meta.url).pathname;
const epoch = Number(process.env.SOURCE_DATE_EPOCH);
const date = (Number.isFinite(epoch) && process.env.SOURCE_DATE_EPOCH ? new Date(epoch * 1000) : new Date()).toISOString().slice(0, 10);
mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
writeFileSync(out, manPage(buildProgram(), { version: pkg.version, date }));
console.error(`wrote ${out}`);
