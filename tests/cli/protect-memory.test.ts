import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveLocatorKeys } from '../../src/core/keychain.js';
import { fragmentObjectName } from '../../src/core/object-names.js';
import { openRecord } from '../../src/core/record.js';
import { decodeShareText } from '../../src/core/share-text.js';
import { collectInputs } from '../../src/cli/inputs.js';
import { TEST_KDF } from '../../src/cli/kdf-choice.js';
import { runProtect } from '../../src/cli/protect-command.js';
import type { ObjectStore } from '../../src/cli/storage.js';
import { pseudoRandomBytes, tempDir } from '../integration/stack-helpers.js';

const KEY = 'Mm7#qT2v!x';
const FILE = 64 * 1024;
const FILES = 24;

/** A store that takes its time (a slow uplink) and counts the bytes handed to it and not yet stored. */
function slowStore(delayMs: number) {
  const stored = new Map<string, Uint8Array>();
  let pending = 0;
  let pendingRecords = 0;
  const peak = { bytes: 0, records: 0 };
  const store: ObjectStore = {
    description: 'slow',
    needsDigests: false,
    getMany: async (names) => names.map((n) => stored.get(n)),
    deleteMany: async (names) => names.forEach((n) => stored.delete(n)),
    putMany: async (objects) => {
      const bytes = objects.reduce((s, o) => s + o.bytes.length, 0);
      pending += bytes;
      pendingRecords++;
      peak.bytes = Math.max(peak.bytes, pending);
      peak.records = Math.max(peak.records, pendingRecords);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      for (const o of objects) stored.set(o.name, o.bytes.slice());
      pending -= bytes;
      pendingRecords--;
    },
  };
  return { store, stored, peak };
}

describe('protect in bulk: memory is bounded by bytes in flight, not by a count of records', () => {
  let temp: { path: string; remove: () => Promise<void> };
  const files = new Map<string, Uint8Array>();
  beforeAll(async () => {
    temp = await tempDir('cli-memory');
    await mkdir(join(temp.path, 'in'));
    for (let i = 0; i < FILES; i++) {
      const bytes = pseudoRandomBytes(FILE, 500 + i);
      const path = join(temp.path, 'in', `slice${String(i).padStart(3, '0')}.dcm`);
      await writeFile(path, bytes);
      files.set(path, bytes);
    }
  });
  afterAll(async () => {
    await temp?.remove();
  });

  for (const budgetFiles of [3, 12]) {
    it(`a budget of ${budgetFiles} files' bytes: records overlap up to it, never beyond, and every input is stored once`, async () => {
      const { store, stored, peak } = slowStore(40);
      const maxBytesInFlight = budgetFiles * FILE;
      const summary = await runProtect({
        inputs: await collectInputs([join(temp.path, 'in')]),
        store,
        sequenceKey: KEY,
        manifest: join(temp.path, `manifest-${budgetFiles}.json`),
        jobs: 0,
        kdf: TEST_KDF,
        compress: false,
        maxBytesInFlight,
      });
      expect(summary.protected).toBe(FILES);
      // A record holds at least its file's size from before it is sealed until its objects are stored, so at
      // most budget ÷ file size records hold objects at once.
      const perRecord = [...stored.values()].reduce((s, o) => s + o.length, 0) / FILES;
      expect(peak.bytes).toBeLessThanOrEqual(budgetFiles * perRecord);
      expect(peak.records).toBeLessThanOrEqual(budgetFiles);
      // …and up to it they overlap: a slow store is not waited for a few records at a time (a fixed count of
      // jobs × 2 + 2 records before; with small files the workers then sat idle).
      expect(peak.records).toBeGreaterThanOrEqual(budgetFiles - 1);
      expect(stored.size).toBe(FILES * (KEY.length + 2));
      // Each input is in the store once and opens to its own bytes (checked for a few).
      const rows = JSON.parse(await readFile(join(temp.path, `manifest-${budgetFiles}.json`), 'utf8')) as { input: string; shareText: string }[];
      expect(rows.map((r) => r.input).sort()).toEqual([...files.keys()].map((p) => p.split('/').slice(-2).join('/')).sort().map((k) => rows.find((r) => r.input.endsWith(k))!.input));
      for (const row of rows.slice(0, 3)) {
        const { recordId, recordKey } = decodeShareText(row.shareText);
        const locator = await deriveLocatorKeys(recordKey);
        const objects = await Promise.all(Array.from({ length: KEY.length + 2 }, async (_, j) => stored.get(await fragmentObjectName(locator, recordId, j))!));
        const opened = await openRecord(objects, KEY, recordKey, recordId);
        const path = [...files.keys()].find((p) => p.endsWith(row.input.split('/').pop()!))!;
        expect(Buffer.from(opened.body).equals(Buffer.from(files.get(path)!))).toBe(true);
      }
    });
  }
});
