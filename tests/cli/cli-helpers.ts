/** Helpers for the CLI tests (not a test file): run `bin/ehr-vault.js` as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/ehr-vault.js', import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly json: Record<string, unknown> & { ok?: boolean; error?: { code: string; details: Record<string, unknown> } };
}

export function startCli(args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  // Tiny Argon2id parameters: tests only (the default is the format's 64 MiB, 4 passes).
  return spawn(process.execPath, [BIN, ...args], { env: { ...process.env, EHRV_KDF: 'test', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
}

export function runCli(args: readonly string[], env: Record<string, string> = {}, stdin?: string): Promise<CliRun> {
  const child = startCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin!.end(stdin ?? '');
  return new Promise((resolve) => {
    child.on('close', (code) => {
      let json = {};
      try {
        json = JSON.parse(stdout) as object;
      } catch {
        /* not JSON output */
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}
