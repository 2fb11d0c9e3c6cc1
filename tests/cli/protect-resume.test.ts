import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveLocatorKeys } from '../../src/core/keychain.js';
import { fragmentObjectName } from '../../src/core/object-names.js';
import { openRecord } from '../../src/core/record.js';
import { decodeShareText } from '../../src/core/share-text.js';
import { shardOf } from '../../src/cli/inputs.js';
import { startStack, type Stack } from '../../server/start.js';
import { bucketReader, pseudoRandomBytes, tempDir } from '../integration/stack-helpers.js';
import { runCli, startCli } from './cli-helpers.js';

const RESUME_TOKEN = 'resume-token-0123456789abcdef';
const SHARD_TOKEN = 'shards-token-0123456789abcdef';
const SEQUENCE_KEY = 'Rq8$wE3n@L';
const N = SEQUENCE_KEY.length;
/** Objects per record: n data objects and the default 2 parity objects (as the app). */
const OBJECTS = N + 2;

interface Row {
  input: string;
  shareText: string;
}

describe('protect in bulk: resume after a kill, and shards', () => {
  let stack: Stack;
  let temp: { path: string; remove: () => Promise<void> };
  let bucket: ReturnType<typeof bucketReader>;
  let keyFile: string;

  beforeAll(async () => {
    temp = await tempDir('cli-resume');
    stack = await startStack({ appPort: 0, distDir: temp.path, localS3: { port: 0, dataDir: `${temp.path}/s3` }, tokens: { [RESUME_TOKEN]: 'resume', [SHARD_TOKEN]: 'shards' }, rateLimit: { burst: 10_000, perSecond: 1_000 } });
    bucket = bucketReader(`${temp.path}/s3`);
    keyFile = join(temp.path, 'key.txt');
    await writeFile(keyFile, SEQUENCE_KEY);
  });

  afterAll(async () => {
    await stack?.close();
    await temp?.remove();
  });

  async function makeInputs(name: string, count: number, size: number): Promise<{ dir: string; files: Map<string, Uint8Array> }> {
    const dir = join(temp.path, name);
    await mkdir(join(dir, 'series'), { recursive: true });
    const files = new Map<string, Uint8Array>();
    for (let i = 0; i < count; i++) {
      const bytes = pseudoRandomBytes(size + i, 1_000 + i);
      const rel = i % 2 ? `series/img${i}.dcm` : `doc${i}.bin`;
      await writeFile(join(dir, rel), bytes);
      files.set(`${dir}/${rel}`, bytes);
    }
    return { dir, files };
  }

  /** The bucket holds exactly the objects of the manifest's records, and each opens to its input's bytes. */
  async function expectExactlyOnce(user: string, rows: readonly Row[], files: Map<string, Uint8Array>): Promise<void> {
    expect(rows.map((r) => r.input).sort()).toEqual([...files.keys()].sort());
    const expected: string[] = [];
    for (const row of rows) {
      const info = decodeShareText(row.shareText);
      const locator = await deriveLocatorKeys(info.recordKey);
      const names = await Promise.all(Array.from({ length: OBJECTS }, (_, j) => fragmentObjectName(locator, info.recordId, j)));
      const objects = await Promise.all(names.map((n) => bucket.read(`users/${user}/fragments/${n}`)));
      const opened = await openRecord(objects, SEQUENCE_KEY, info.recordKey, info.recordId);
      expect(opened.body).toEqual(files.get(row.input));
      expected.push(...names.map((n) => `users/${user}/fragments/${n}`));
    }
    expect(await bucket.list(`users/${user}/`)).toEqual(expected.sort());
  }

  it('a protect killed mid-run resumes and ends with every input protected exactly once', async () => {
    const { dir, files } = await makeInputs('resume-in', 40, 100_000);
    const manifest = join(temp.path, 'resume.json');
    const journal = `${manifest}.journal`;
    const env = { EHRV_STORAGE: `${stack.appUrl}/api/presign`, EHRV_TOKEN: RESUME_TOKEN };
    const args = ['--json', 'protect', dir, '--sequence-key-file', keyFile, '--manifest', manifest, '--jobs', '1', '--uploads', '1'];
    const child = startCli(args, env);
    const exited = new Promise<number | null>((resolve) => child.on('close', (code, signal) => resolve(signal ? -1 : code)));
    // Killed (SIGKILL: no clean-up at all) once some records are done, preferably while one is uploading.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const lines = (await readFile(journal, 'utf8').catch(() => '')).trim().split('\n');
      const done = lines.filter((l) => l.includes('"t":"done"')).length;
      if (done >= 5 && lines.at(-1)!.includes('"t":"begin"')) break;
      if (done >= 8 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe(-1);
    const killedJournal = (await readFile(journal, 'utf8')).split('\n');
    const before = killedJournal.filter((l) => l.includes('"t":"done"')).length;
    const begun = killedJournal.filter((l) => l.includes('"t":"begin"')).length;
    expect(before).toBeGreaterThanOrEqual(5);
    expect(before).toBeLessThan(40);

    const second = await runCli(args, env);
    expect(second.code, second.stderr + second.stdout).toBe(0);
    // A record killed between its first upload and its "done" line is deleted from the store and protected again.
    expect(second.json).toMatchObject({ ok: true, selected: 40, alreadyDone: before, protected: 40 - before, resumedCleanups: begun - before });
    const rows = JSON.parse(await readFile(manifest, 'utf8')) as Row[];
    expect(rows).toHaveLength(40);
    await expectExactlyOnce('resume', rows, files);

    // A third run has nothing left to do and changes nothing.
    const third = await runCli(args, env);
    expect(third.json).toMatchObject({ ok: true, alreadyDone: 40, protected: 0, manifestRows: 40 });
  }, 300_000);

  it('two shards over the same input list together protect every input once', async () => {
    const { dir, files } = await makeInputs('shards-in', 16, 20_000);
    const list = join(temp.path, 'inputs.txt');
    await writeFile(list, `# archive\n${dir}\n`);
    const env = { EHRV_STORAGE: `${stack.appUrl}/api/presign`, EHRV_TOKEN: SHARD_TOKEN };
    const shard = (i: number) => runCli(['--json', 'protect', '--list', list, '--shard', `${i}/2`, '--sequence-key-file', keyFile, '--manifest', join(temp.path, `shard-${i}.json`), '--jobs', '1'], env);
    const [one, two] = await Promise.all([shard(1), shard(2)]);
    expect(one.code, one.stderr + one.stdout).toBe(0);
    expect(two.code, two.stderr + two.stdout).toBe(0);
    const rows1 = JSON.parse(await readFile(join(temp.path, 'shard-1.json'), 'utf8')) as Row[];
    const rows2 = JSON.parse(await readFile(join(temp.path, 'shard-2.json'), 'utf8')) as Row[];
    expect(rows1.length).toBeGreaterThan(0);
    expect(rows2.length).toBeGreaterThan(0);
    for (const r of rows1) expect(shardOf(r.input, 2)).toBe(1);
    for (const r of rows2) expect(shardOf(r.input, 2)).toBe(2);
    await expectExactlyOnce('shards', [...rows1, ...rows2], files);
  }, 180_000);

  it('a record whose objects were uploaded but not journalled as done is deleted and protected again', async () => {
    const { dir, files } = await makeInputs('half-done', 2, 5_000);
    const objectsDir = join(temp.path, 'half-done-objects');
    const manifest = join(temp.path, 'half-done.json');
    const args = ['--json', 'protect', dir, '--to', objectsDir, '--sequence-key-file', keyFile, '--manifest', manifest, '--jobs', '0'];
    expect((await runCli(args)).code).toBe(0);
    const journal = `${manifest}.journal`;
    const lines = (await readFile(journal, 'utf8')).trim().split('\n');
    // As if killed right after the last upload of the last record, before its "done" line was written.
    const lastDone = lines.findLastIndex((l) => l.includes('"t":"done"'));
    const dropped = JSON.parse(lines[lastDone]!) as { input: string; row: { recordId: string; shareText: string } };
    await writeFile(journal, lines.filter((_, i) => i !== lastDone).join('\n') + '\n');
    const oldNames = await (async () => {
      const info = decodeShareText(dropped.row.shareText);
      const locator = await deriveLocatorKeys(info.recordKey);
      return Promise.all(Array.from({ length: OBJECTS }, (_, j) => fragmentObjectName(locator, info.recordId, j)));
    })();
    expect((await readdir(objectsDir)).filter((f) => oldNames.includes(f))).toHaveLength(OBJECTS);
    const again = await runCli(args);
    expect(again.json).toMatchObject({ ok: true, resumedCleanups: 1, alreadyDone: 1, protected: 1 });
    const rows = JSON.parse(await readFile(manifest, 'utf8')) as (Row & { recordId: string })[];
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.input === dropped.input)!.recordId).not.toBe(dropped.row.recordId);
    // The old objects are gone; exactly the two records' objects remain.
    const left = await readdir(objectsDir);
    expect(left.filter((f) => oldNames.includes(f))).toEqual([]);
    expect(left).toHaveLength(2 * OBJECTS);
    for (const row of rows) {
      const info = decodeShareText(row.shareText);
      const locator = await deriveLocatorKeys(info.recordKey);
      const names = await Promise.all(Array.from({ length: OBJECTS }, (_, j) => fragmentObjectName(locator, info.recordId, j)));
      const objects = await Promise.all(names.map(async (n) => new Uint8Array(await readFile(join(objectsDir, n)))));
      expect((await openRecord(objects, SEQUENCE_KEY, info.recordKey, info.recordId)).body).toEqual(files.get(row.input));
    }
  });

  it('--shard rejects nonsense and a journal of another storage is refused', async () => {
    const bad = await runCli(['--json', 'protect', temp.path, '--shard', '3/2', '--to', join(temp.path, 'x')]);
    expect(bad.code).toBe(2);
    expect(bad.json.error?.code).toBe('USAGE');
    const manifest = join(temp.path, 'resume.json');
    const other = await runCli(['--json', 'protect', join(temp.path, 'resume-in'), '--to', join(temp.path, 'elsewhere'), '--sequence-key-file', keyFile, '--manifest', manifest]);
    expect(other.code).toBe(6);
    expect(other.json.error?.code).toBe('JOURNAL_MISMATCH');
  });
});
