import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EhrVaultError } from '../../src/core/errors.js';
import { deriveLocatorKeys } from '../../src/core/keychain.js';
import { decodeHeadFields, HEAD_LENGTH, openHeadBytes, sealHead } from '../../src/core/object-head.js';
import { fragmentObjectName } from '../../src/core/object-names.js';
import { recordIdBytes } from '../../src/core/open-objects.js';
import { openRecord } from '../../src/core/record.js';
import { decodeShareText } from '../../src/core/share-text.js';
import { collectInputs } from '../../src/cli/inputs.js';
import { JournalWriter, readJournal } from '../../src/cli/journal.js';
import { TEST_KDF } from '../../src/cli/kdf-choice.js';
import { runProtect } from '../../src/cli/protect-command.js';
import { FolderStore } from '../../src/cli/storage.js';
import { pseudoRandomBytes, tempDir } from '../integration/stack-helpers.js';

const SEQUENCE_KEY = 'Bt7#kQ2!vZ9m';
const N = SEQUENCE_KEY.length;

interface Row {
  input: string;
  shareText: string;
}

/** A record's objects as stored by a FolderStore, and its heads' fields. */
async function readRecord(dir: string, shareText: string) {
  const { recordId, recordKey } = decodeShareText(shareText);
  const locator = await deriveLocatorKeys(recordKey);
  const names = await Promise.all(Array.from({ length: N }, (_, j) => fragmentObjectName(locator, recordId, j)));
  const objects = await Promise.all(names.map(async (n) => new Uint8Array(await readFile(join(dir, n)))));
  const heads = await Promise.all(objects.map(async (o, j) => decodeHeadFields((await openHeadBytes(locator.head, recordIdBytes(recordId), o.subarray(0, HEAD_LENGTH)))!, j)));
  return { recordId, recordKey, locator, objects, heads };
}

describe('protect in bulk: one Argon2id per batch (FORMAT.md §3.2)', () => {
  let temp: { path: string; remove: () => Promise<void> };
  let inputDir: string;
  const files = new Map<string, Uint8Array>();

  beforeAll(async () => {
    temp = await tempDir('cli-batch-kdf');
    inputDir = join(temp.path, 'in');
    await mkdir(inputDir, { recursive: true });
    for (let i = 0; i < 6; i++) {
      const bytes = pseudoRandomBytes(20_000 + 37 * i, 500 + i);
      await writeFile(join(inputDir, `IM${i}.dcm`), bytes);
      files.set(join(inputDir, `IM${i}.dcm`), bytes);
    }
  });
  afterAll(async () => {
    await temp?.remove();
  });

  async function run(name: string, extra: { generateKeys?: boolean; manifest?: string } = {}) {
    const out = join(temp.path, `objects-${name}`);
    const manifest = extra.manifest ?? join(temp.path, `${name}.json`);
    const summary = await runProtect({ inputs: await collectInputs([inputDir]), store: new FolderStore(out), ...(extra.generateKeys ? { generateKeys: true } : { sequenceKey: SEQUENCE_KEY }), manifest, jobs: 2, kdf: TEST_KDF });
    const rows = JSON.parse(await readFile(manifest, 'utf8')) as Row[];
    return { summary, rows, out, manifest };
  }

  it('a run of 6 records makes one Argon2id call; every record shares the salt yet opens alone with its share text and S', async () => {
    const { summary, rows, out } = await run('a');
    expect(summary.protected).toBe(6);
    expect(summary.argon2idRuns).toBe(1);
    const salts = new Set<string>();
    for (const row of rows) {
      const r = await readRecord(out, row.shareText);
      for (const h of r.heads) salts.add(Buffer.from(h.kdfSalt).toString('hex'));
      // Only this record's objects, its share text and the sequence key.
      const opened = await openRecord(r.objects, SEQUENCE_KEY, r.recordKey, r.recordId);
      expect(opened.body).toEqual(files.get(row.input));
    }
    expect(salts.size).toBe(1);
    expect([...salts][0]).not.toBe('00'.repeat(16));
  });

  it('a resumed run keeps the batch salt (journal), and runs one Argon2id for the rest', async () => {
    const first = await run('resume');
    const salt = Buffer.from((await readRecord(first.out, first.rows[0]!.shareText)).heads[0]!.kdfSalt).toString('hex');
    const journal = await readFile(`${first.manifest}.journal`, 'utf8');
    expect(journal).toContain(`"t":"batch","salt":"${salt}"`);
    // X itself is never written: the journal holds the salt only (and 32-byte values nowhere).
    expect(journal).not.toMatch(/[0-9a-f]{64}/);
    // A rerun over the same journal (everything done): it still stretches once, with the journal's salt.
    const again = await run('resume', { manifest: first.manifest });
    expect([again.summary.protected, again.summary.alreadyDone, again.summary.argon2idRuns]).toEqual([0, 6, 1]);
    expect((journal.match(/"t":"batch"/g) ?? []).length).toBe(1);
    expect(((await readFile(`${first.manifest}.journal`, 'utf8')).match(/"t":"batch"/g) ?? []).length).toBe(1);
  });

  it('with --generate-keys (a key per record) each record is its own batch: one Argon2id per record', async () => {
    const { summary } = await run('generated', { generateKeys: true });
    expect([summary.protected, summary.argon2idRuns]).toEqual([6, 6]);
  });

  it('a record does not open under another batch: its heads re-sealed with the other batch\'s salt give WRONG_SEQUENCE_KEY', async () => {
    const a = await run('x');
    const b = await run('y');
    const ra = await readRecord(a.out, a.rows[0]!.shareText);
    const rb = await readRecord(b.out, b.rows[0]!.shareText);
    expect(Buffer.from(ra.heads[0]!.kdfSalt).equals(Buffer.from(rb.heads[0]!.kdfSalt))).toBe(false);
    // Authentic heads (sealed with this record's own K_head) naming batch b's salt: X differs, so every key does.
    const moved = await Promise.all(ra.objects.map(async (o, j) => Uint8Array.from([...(await sealHead(ra.locator.head, recordIdBytes(ra.recordId), { ...ra.heads[j]!, kdfSalt: rb.heads[0]!.kdfSalt })), ...o.subarray(HEAD_LENGTH)])));
    const error = await openRecord(moved, SEQUENCE_KEY, ra.recordKey, ra.recordId).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(EhrVaultError);
    expect((error as EhrVaultError).code).toBe('WRONG_SEQUENCE_KEY');
    // Objects of two batches mixed in one record: the heads disagree (CHAIN_BROKEN), never plaintext.
    const mixed = ra.objects.map((o, j) => (j === 2 ? moved[2]! : o));
    const mixError = await openRecord(mixed, SEQUENCE_KEY, ra.recordKey, ra.recordId).then(() => undefined, (e: unknown) => e);
    expect((mixError as EhrVaultError).code).toBe('CHAIN_BROKEN');
    // The untouched record still opens.
    expect((await openRecord(ra.objects, SEQUENCE_KEY, ra.recordKey, ra.recordId)).body).toEqual(files.get(a.rows[0]!.input));
  });
});

describe('journal group commit', () => {
  it('entries appended together share datasyncs, stay in order, and each resolves only once written', async () => {
    const temp = await tempDir('cli-journal');
    try {
      const path = join(temp.path, 'j');
      const journal = await JournalWriter.open(path);
      const rows = Array.from({ length: 10 }, (_, i) => ({ t: 'abandoned' as const, input: `in${i}`, recordId: `r${i}` }));
      await Promise.all(rows.map(async (row) => {
        await journal.append(row);
        // Resolved: the line is in the file already.
        expect(await readFile(path, 'utf8')).toContain(`"input":"${row.input}"`);
      }));
      expect(journal.syncs).toBe(2);
      await journal.close();
      expect((await readFile(path, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { input: string }).input)).toEqual(rows.map((r) => r.input));
      expect((await readJournal(path)).done.size).toBe(0);
    } finally {
      await temp.remove();
    }
  });
});
