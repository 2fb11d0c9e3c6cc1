/**
 * `npm start` entry point (after `vite build`): embedded S3 + presign API + static app on 127.0.0.1.
 * Configuration comes from environment variables, see server/README.md.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stackOptionsFromEnv } from './env-config.js';
import { ConfigError } from './config-error.js';
import { startStack } from './start-stack.js';

export { startStack, type Stack } from './start-stack.js';
export type { StackOptions, ExternalS3Options, LocalS3Settings } from './stack-options.js';

async function main(): Promise<void> {
  const log = (line: string): void => console.log(line);
  const stack = await startStack({ ...stackOptionsFromEnv(), log });
  const { options } = stack;

  log('');
  log(`EHR Vault is running. Open ${stack.appUrl}`);
  log(`  presign API   ${stack.appUrl}/api/presign (health: ${stack.appUrl}/api/health)`);
  log(`  object store  ${stack.s3Url} bucket "${options.bucket}" (${options.external ? 'external' : `embedded s3rver, data in ${options.localS3.dataDir}`})`);
  if (stack.token !== null) log(`  dev token     ${stack.token}  (user "dev"; also served at /api/config)`);
  if (options.oidc !== null) log(`  sign-in       OpenID Connect, issuer ${options.oidc.issuer}, audience ${options.oidc.audience.join(', ')}`);
  if (!existsSync(join(options.distDir, 'index.html'))) {
    log(`  note          ${options.distDir} has no index.html: run \`npm run build\` (vite build), the app pages answer 503 until then`);
  }
  log('Press Ctrl-C to stop.');

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log(`${signal} again: exiting immediately.`);
      process.exit(1);
    }
    stopping = true;
    log(`${signal} received, stopping...`);
    stack.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('error while stopping:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      console.error(`Configuration error: ${error.message}\nSee server/README.md for the environment variables.`);
    } else if (error instanceof Error && 'code' in error && error.code === 'EADDRINUSE') {
      console.error(`${error.message}: another process uses that port; set APP_PORT / S3_PORT to free ports.`);
    } else {
      console.error(error);
    }
    process.exit(1);
  });
}
