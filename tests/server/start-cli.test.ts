import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from './helpers.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('server/start.ts (npm start)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('prints the URL and dev token, serves the API, and exits cleanly on SIGINT', async () => {
    const temp = await makeTempDir('cli');
    cleanups.push(temp.remove);
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/start.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        APP_PORT: '0',
        S3_PORT: '0',
        S3_DATA_DIR: `${temp.path}/s3`,
        APP_DIST_DIR: `${temp.path}/no-dist`,
        EHRV_DEV_TOKEN: 'cli-dev-token-0123456789',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

    const appUrl = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /Open (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
        if (match?.[1] !== undefined && stdout.includes('Press Ctrl-C')) resolve(match[1]);
      });
      void exited.then(() => reject(new Error(`start.ts exited early:\n${stdout}\n${stderr}`)));
    });

    expect(stdout).toContain('dev token     cli-dev-token-0123456789');
    expect(stdout).toContain('npm run build');
    const health = await fetch(`${appUrl}/api/health`);
    expect(await health.json()).toEqual({ status: 'ok', storage: 'embedded' });
    expect((await fetch(`${appUrl}/`)).status).toBe(503);

    child.kill('SIGINT');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(stdout).toContain('SIGINT received, stopping');
    await expect(fetch(`${appUrl}/api/health`)).rejects.toThrow();
  });
});
