// The quick-start demo: a lab (hypervisor sshd + guest sshds in network namespaces), a verified
// `ssh2vsock tunnel` to guest g1, and a real `ssh` through it; Ctrl-C (or --once) ends it all.
import { spawn, spawnSync } from "node:child_process";
import { startLab } from "../tests/lab/lab.ts";

const once = process.argv.includes("--once");
const lab = await startLab({ guests: 2 });
const bin = new URL("../dist/ssh2vsock", import.meta.url).pathname;
const tunnel = spawn(bin, ["tunnel", "-c", lab.configFile, "-v", "g1"], { stdio: ["ignore", "pipe", "inherit"] });
const tunnelExited = new Promise((r) => tunnel.once("close", r));
const shutdown = async (code: number) => {
  // The tunnel first, then the lab it runs through.
  tunnel.kill("SIGTERM");
  await tunnelExited;
  await lab.stop();
  process.exit(code);
};
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

const ready = await new Promise<string>((resolve, reject) => {
  let out = "";
  tunnel.stdout!.on("data", (d) => {
    out += d;
    if (out.includes("\n")) resolve(out.split("\n")[0]);
  });
  tunnel.once("exit", (code) => reject(new Error(`tunnel exited with ${code}`)));
}).catch(async (e) => {
  console.error(String(e));
  await shutdown(1);
  throw e;
});
const port = ready.split(":").at(-1)!;
console.log(`\ntunnel ready: ${ready}   (config: ${lab.configFile})`);
const sshArgs = [
  "-F", "/dev/null", "-p", port, "-i", lab.clientKey, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
  "-o", `UserKnownHostsFile=${lab.knownHostsFile}`, "-o", "StrictHostKeyChecking=yes", "-o", "HostKeyAlias=g1.lab.test",
  "root@127.0.0.1",
];
console.log(`$ ssh ${sshArgs.join(" ")} 'echo "hello from $(ip netns identify)"; ip -brief link'`);
const r = spawnSync("ssh", [...sshArgs, 'echo "hello from $(ip netns identify)"; ip -brief link'], { stdio: "inherit" });
if (once || r.status !== 0) await shutdown(r.status ?? 1);
console.log(`\nThe tunnel stays up: try the ssh command above, or ProxyCommand:\n  ssh -o ProxyCommand='${bin} -c ${lab.configFile} proxy %h' … root@g2\nCtrl-C stops the tunnel and the lab.`);
