// The only door to the ssh2 library: it loads the chacha20 shim first, because ssh2 reads the
// runtime's cipher list once, when it is first loaded (NOTES.md, "ChaCha20 on Bun").
import "./chacha-shim.ts";
import ssh2 from "ssh2";

export default ssh2;
