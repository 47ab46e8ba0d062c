// Public API of src/core/doctor: the runner, its report shapes, and the known_hosts writer
// doctor uses when the user accepts a key.
export * from "./types.ts";
export { runDoctor, CHECK_TITLES, type CheckId } from "./run.ts";
export { appendKnownHostsLine, type KnownHostsFs } from "./known-hosts-append.ts";
export { nodeKnownHostsFs } from "./node-known-hosts-fs.ts";
