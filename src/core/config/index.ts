// The configuration module's public surface: load a file, resolve targets, pick the tunnel mode,
// show it redacted. Everything downstream reads only the shapes in ./types.ts.

export type * from "./types.ts";
export { findConfigFile, expandPath, type SearchOptions } from "./search.ts";
export { loadConfig, parseConfigText, type LoadOptions } from "./load.ts";
export { validateConfig, assertValid, formatProblem } from "./validate.ts";
export { resolveTarget, parseAdHocTarget, guestNames, type TargetOptions, type AdHocTarget } from "./target.ts";
export { parseHypervisorOverride, type HypervisorOverride } from "./hypervisor-override.ts";
export { hostPortProblem, formatHostPort, HOST_PORT_FORMS } from "./host-port.ts";
export { MODES, modeFor, isGuestSshPort, spliceTargetProblem } from "./mode.ts";
export { applyTunnelOverrides, type TunnelOverrides } from "./tunnel-overrides.ts";
export { redactedView, REDACTED, type Json } from "./redact.ts";
export { ATTRIBUTES, attributeSpec, attributeNames, type AttributeSpec } from "./schema.ts";
