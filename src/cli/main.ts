import { availableParallelism } from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import { EhrVaultError } from '../core/errors.js';
import { CliError, EXIT, exitCodeFor, usage } from './errors.js';
import { collectInputs, parseShard, readInputList } from './inputs.js';
import { kdfFromEnv } from './kdf-choice.js';
import { runOpen, runVerify } from './open-command.js';
import { runProtect } from './protect-command.js';
import { readSequenceKeyFile } from './secrets.js';
import { storeFromOptions } from './storage.js';

interface GlobalOptions {
  json?: boolean;
}

const EXIT_HELP = `
Exit codes: 0 ok · 2 usage · 3 key problem (share text, sequence key) · 4 record damaged or incomplete ·
5 storage or network · 6 local file · 7 protect finished with failed inputs · 130 interrupted · 1 other.
Environment: EHRV_STORAGE (presign URL), EHRV_TOKEN (bearer token). Details: docs/CLI.md.`;

function print(json: boolean | undefined, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
}

function storageOptions(command: Command): Command {
  return command
    .option('--storage <url>', 'presign service URL (…/api/presign or the app address); default $EHRV_STORAGE')
    .option('--token <token>', 'bearer token of the presign service; default $EHRV_TOKEN');
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('ehr-vault')
    .description('Open, verify and recover EHR Vault records without a browser, and protect an archive in bulk.')
    .option('--json', 'print results and errors as JSON on stdout (for scripts)')
    .showHelpAfterError()
    .addHelpText('after', EXIT_HELP)
    .exitOverride();

  storageOptions(
    program
      .command('open')
      .description('fetch (or read) a record\'s objects, check and decrypt them, and write the original file or a lossless PNG')
      .argument('<share-text>', 'the record\'s share text, ehrv1:…')
      .option('--sequence-key-file <file>', 'read the sequence key from a file (- for standard input); otherwise asked without echo')
      .option('--from <dir>', 'read objects from this folder (any file names, any order) instead of the storage')
      .option('--out <path>', 'where to write (default: the record\'s own name; images as .png, one per frame)')
      .option('--force', 'replace an existing output file'),
  ).action(async (shareText: string, o: Record<string, string | boolean | undefined>, command: Command) => {
    const g = command.optsWithGlobals<GlobalOptions>();
    const result = await runOpen(shareText, { from: o.from as string | undefined, storage: o.storage as string | undefined, token: o.token as string | undefined, sequenceKeyFile: o.sequenceKeyFile as string | undefined, out: o.out as string | undefined, force: o.force === true });
    print(g.json, { ok: true, ...result }, `Opened ${result.kind} record "${result.name}" (${result.objects} objects) → ${result.written.join(', ')}`);
  });

  storageOptions(
    program
      .command('verify')
      .description('check that every object of a record is present and intact; with the sequence key, a full open without writing anything')
      .argument('<share-text>', 'the record\'s share text, ehrv1:…')
      .option('--sequence-key-file <file>', 'also decrypt and check every byte (full open, nothing written)')
      .option('--full', 'ask for the sequence key (without echo) and do a full open')
      .option('--from <dir>', 'check objects in this folder instead of the storage'),
  ).action(async (shareText: string, o: Record<string, string | boolean | undefined>, command: Command) => {
    const g = command.optsWithGlobals<GlobalOptions>();
    const result = await runVerify(shareText, { from: o.from as string | undefined, storage: o.storage as string | undefined, token: o.token as string | undefined, sequenceKeyFile: o.sequenceKeyFile as string | undefined, full: o.full === true });
    const what = result.checked === 'full-open' ? 'decrypted and authenticated' : 'heads authentic, lengths right (body bytes need the sequence key: --full)';
    print(g.json, { ok: true, ...result }, `OK: ${result.objects} of ${result.n + result.parityObjects} objects present, ${what}.`);
  });

  storageOptions(
    program
      .command('protect')
      .description('protect files and folders in bulk: worker threads, journal and resume, a manifest of share texts (0600)')
      .argument('[inputs...]', 'files or folders (walked recursively)')
      .option('--list <file>', 'read input paths from a file, one per line')
      .option('--to <dir>', 'write the objects into a folder instead of the storage (upload them later under the same names)')
      .option('--sequence-key-file <file>', 'one sequence key for every record of the run')
      .option('--generate-keys', 'a new generated sequence key per record, written to the manifest')
      .addOption(new Option('--key-length <n>', 'length of generated keys').default('12').argParser((v) => v))
      .option('--manifest <file>', 'manifest of share texts; .json for JSON, else CSV', 'ehr-vault-manifest.csv')
      .option('--journal <file>', 'journal for resuming (default: <manifest>.journal)')
      .option('--shard <i/N>', 'protect only the inputs of shard i of N (stable by a hash of each input path)')
      .addOption(new Option('--jobs <n>', 'worker threads for the byte work').default(String(availableParallelism())))
      .addOption(new Option('--uploads <n>', 'object uploads at once per record').default('8'))
      .addOption(new Option('--parity <p>', 'Reed–Solomon parity objects per record (any p objects may be lost)').default('2'))
      .option('--no-compress', 'store PNG pixels and files without raw DEFLATE (the app compresses by default)')
      .option('--no-progress', 'no progress bar'),
  ).action(async (inputs: string[], o: Record<string, string | boolean | undefined>, command: Command) => {
    const g = command.optsWithGlobals<GlobalOptions>();
    const paths = [...inputs, ...(typeof o.list === 'string' ? await readInputList(o.list) : [])];
    if (paths.length === 0) throw usage('No inputs given.', 'Name files or folders, or pass --list <file>.');
    if (o.generateKeys && o.sequenceKeyFile) throw usage('Use either --sequence-key-file or --generate-keys.');
    const jobs = Number(o.jobs);
    const uploads = Number(o.uploads);
    const keyLength = Number(o.keyLength);
    const parity = Number(o.parity);
    if (!Number.isInteger(jobs) || jobs < 0 || jobs > 256) throw usage('--jobs is a whole number from 0 to 256.');
    if (!Number.isInteger(uploads) || uploads < 1 || uploads > 64) throw usage('--uploads is a whole number from 1 to 64.');
    if (!Number.isInteger(parity) || parity < 0 || parity > 64) throw usage('--parity is a whole number from 0 to 64.');
    if (!Number.isInteger(keyLength) || keyLength < 8 || keyLength > 64) throw usage('--key-length is a whole number from 8 to 64.');
    const store = storeFromOptions({ storage: o.storage as string | undefined, token: o.token as string | undefined, to: o.to as string | undefined, concurrency: uploads });
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const summary = await runProtect({
        inputs: await collectInputs(paths),
        store,
        sequenceKey: typeof o.sequenceKeyFile === 'string' ? await readSequenceKeyFile(o.sequenceKeyFile) : undefined,
        generateKeys: o.generateKeys === true,
        keyLength,
        manifest: o.manifest as string,
        journal: o.journal as string | undefined,
        shard: typeof o.shard === 'string' ? parseShard(o.shard) : undefined,
        jobs,
        kdf: kdfFromEnv(),
        compress: o.compress !== false,
        parity,
        progress: o.progress !== false && !g.json && process.stderr.isTTY === true,
        signal: controller.signal,
      });
      if (summary.interrupted) throw new EhrVaultError('ABORTED', `Interrupted after ${summary.protected} records; the manifest holds every finished one.`, 'Run the same command again to resume.', { ...summary });
      if (summary.failed.length > 0) {
        throw new CliError('PROTECT_INCOMPLETE', `${summary.failed.length} input(s) could not be protected (first: ${summary.failed[0]!.input}: ${summary.failed[0]!.message}).`, 'Fix or remove them and run the same command again; finished inputs are skipped.', { ...summary });
      }
      print(g.json, { ok: true, ...summary }, `Protected ${summary.protected} records (${summary.alreadyDone} already done) in ${summary.seconds.toFixed(1)} s: ${summary.recordsPerSecond.toFixed(2)} records/s, ${summary.megabytesPerSecond.toFixed(1)} MB/s. Manifest: ${summary.manifest} (${summary.manifestRows} records).`);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });

  for (const command of program.commands) command.exitOverride().addHelpText('after', EXIT_HELP);
  return program;
}

function report(error: unknown, json: boolean): number {
  const code = exitCodeFor(error);
  if (error instanceof EhrVaultError) {
    if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: { code: error.code, message: error.message, hint: error.hint, details: error.details }, exitCode: code }, null, 2)}\n`);
    else process.stderr.write(`ehr-vault: ${error.code}: ${error.message}\n  ${error.hint}\n`);
  } else {
    const message = error instanceof Error ? error.stack ?? error.message : String(error);
    if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: { code: 'INTERNAL', message: String(error), hint: 'Please report this.' }, exitCode: code })}\n`);
    else process.stderr.write(`ehr-vault: unexpected error: ${message}\n`);
  }
  return code;
}

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const json = argv.includes('--json');
  try {
    await buildProgram().parseAsync(argv);
    return EXIT.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version') return EXIT.OK;
      return EXIT.USAGE;
    }
    return report(error, json);
  }
}
