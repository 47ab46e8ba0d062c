// Turns a hop's authentication group into ssh2 connect options, checking the private key
// up front so a wrong passphrase or unsupported format is an AuthError, not a stack trace.
import ssh2 from "./ssh2.ts";
import type { HopAuth } from "../config/types.ts";
import { AuthError } from "../errors.ts";

/** The subset of ssh2's ConnectConfig that carries credentials. Holds secrets: never log it. */
export interface Ssh2AuthOptions {
  password?: string;
  privateKey?: Buffer;
  passphrase?: string;
  agent?: string;
  /** Exactly the methods this hop is configured for, in order. */
  authHandler: ("password" | "publickey" | "agent" | "keyboard-interactive")[];
}

/** Reads a private key file; injected so tests and other runtimes can supply their own. */
export type ReadFile = (path: string) => Buffer;

/**
 * Builds ssh2 credentials for one hop.
 * @example authOptions({ useAgent: true, agentSock: "/run/agent", origin: "hypervisor" }, readFileSync, "hypervisor")
 */
export function authOptions(auth: HopAuth, readFile: ReadFile, hopLabel: string): Ssh2AuthOptions {
  // Only built-in defaults combine a key with the agent (validation allows one mechanism per
  // block): then an unusable default key is skipped in favour of the agent.
  const agent = auth.useAgent && auth.agentSock ? agentOptions(auth, hopLabel) : undefined;
  if (auth.privateKeyFile !== undefined) {
    try {
      const key = keyOptions(auth, auth.privateKeyFile, readFile, hopLabel);
      if (!agent) return key;
      return { ...key, agent: agent.agent, authHandler: ["publickey", "agent"] };
    } catch (e) {
      if (!agent) throw e;
      return agent;
    }
  }
  if (auth.password !== undefined) return { password: auth.password, authHandler: ["password", "keyboard-interactive"] };
  if (auth.useAgent) return agentOptions(auth, hopLabel);
  throw new AuthError(`${hopLabel}: no authentication method configured`, {
    hint: "set one of password, ssh_private_key or ssh_use_agent",
  });
}

function keyOptions(auth: HopAuth, file: string, readFile: ReadFile, hopLabel: string): Ssh2AuthOptions {
  let data: Buffer;
  try {
    data = readFile(file);
  } catch (e) {
    throw new AuthError(`${hopLabel}: cannot read private key ${file}: ${(e as NodeJS.ErrnoException).code ?? "unreadable"}`, {
      hint: `check ${auth.origin}.ssh_private_key`,
    });
  }
  const parsed = ssh2.utils.parseKey(data, auth.passphrase);
  if (parsed instanceof Error) {
    const encrypted = /encrypted|passphrase|decrypt/i.test(parsed.message);
    throw new AuthError(`${hopLabel}: cannot use private key ${file}: ${parsed.message}`, {
      hint: encrypted
        ? `the passphrase (${auth.origin}.ssh_private_key_passphrase) is missing or wrong`
        : "supported formats are OpenSSH, PEM (PKCS#1/SEC1) and PPK; convert with `ssh-keygen -p -f KEY`",
    });
  }
  return { privateKey: data, passphrase: auth.passphrase, authHandler: ["publickey"] };
}

function agentOptions(auth: HopAuth, hopLabel: string): Ssh2AuthOptions {
  if (!auth.agentSock) {
    throw new AuthError(`${hopLabel}: ssh_use_agent is set but no agent socket is known`, {
      hint: "start ssh-agent (SSH_AUTH_SOCK) or set ssh_agent_sock",
    });
  }
  return { agent: auth.agentSock, authHandler: ["agent"] };
}
