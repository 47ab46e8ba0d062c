// The only door to the ssh2 library: it loads the chacha20 shim first, because ssh2 reads the
// runtime's cipher list once, when it is first loaded (Bun has no chacha20: see chacha-shim.ts).
import "./chacha-shim.ts";

// A static `import … from "ssh2"` is not enough: Bun evaluates a CommonJS dependency before
// the body of any ES module that imports it, shim or not. A dynamic import runs after the shim.
const ssh2 = (await import("ssh2")).default;

export default ssh2;
