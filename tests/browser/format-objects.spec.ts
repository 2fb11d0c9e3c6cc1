/**
 * What the cloud sees of records protected in the real app (FORMAT.md §4.5): sealed objects only. Run on
 * the bucket an operator (or an attacker with the bucket) would read.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { startAppStack, type AppStack } from './app-stack.js';
import { protectInApp } from './app-flows.js';
import { pseudoRandomBytes } from '../integration/stack-helpers.js';
import { skipIntro } from './app-helpers.js';

const PHOTO = new URL('../fixtures/photo-board.jpg', import.meta.url).pathname;
/** Two records of the same size and n (so their objects have the same length) and a photo with non-ASCII characters in its key. */
const RECORDS = [
  { name: 'discharge-summary.txt', key: 'adk21937' },
  { name: 'lab-results.txt', key: 'Zq8!mW3#' },
];
const PHOTO_KEY = 'é𝄞a😀b𐐷c1';

let stack: AppStack;
test.describe.configure({ mode: 'serial' });
test.beforeAll(async () => {
  stack = await startAppStack();
});
test.afterAll(async () => {
  await stack?.close();
});

/** UTF-8 lead bytes of a key's characters: what a fragment of the paper's split starts and ends with. */
function leadBytes(key: string): Set<number> {
  return new Set(Array.from(key, (c) => new TextEncoder().encode(c)[0]!));
}

test.beforeEach(async ({ context }) => {
  await skipIntro(context);
});

test('stored objects carry no index character, no magic, and cannot be grouped by content', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'ehrv-objects-'));
  const keyOf = new Map<string, string>();
  const before = new Set(await stack.listObjects());
  const objectsOf: string[][] = [];
  for (const [i, r] of RECORDS.entries()) {
    const file = join(dir, r.name);
    writeFileSync(file, pseudoRandomBytes(20_000, 11 + i));
    await protectInApp(page, stack.appUrl, file, r.key);
    const added = (await stack.listObjects()).filter((k) => !before.has(k));
    added.forEach((k) => before.add(k));
    objectsOf.push(added);
    added.forEach((k) => keyOf.set(k, r.key));
  }
  await protectInApp(page, stack.appUrl, PHOTO, PHOTO_KEY);
  const photoObjects = (await stack.listObjects()).filter((k) => !before.has(k));
  photoObjects.forEach((k) => keyOf.set(k, PHOTO_KEY));
  expect(objectsOf.map((o) => o.length)).toEqual([8, 8]);
  expect(photoObjects).toHaveLength(8);

  const read = async (k: string) => stack.readObject(k);
  const all = [...keyOf.keys()];
  let startsOrEndsWithKeyChar = 0;
  let expectedByChance = 0;
  for (const k of all) {
    const bytes = await read(k);
    const leads = leadBytes(keyOf.get(k)!);
    if (leads.has(bytes[0]!)) startsOrEndsWithKeyChar++;
    if (leads.has(bytes[bytes.length - 1]!)) startsOrEndsWithKeyChar++;
    expectedByChance += (2 * leads.size) / 256;
    // The envelope magic "EHRV" was at the start of the first fragment's payload in format 1.
    const front = Buffer.from(bytes.subarray(0, 4096));
    expect(front.includes(Buffer.from('EHRV'))).toBe(false);
    // The file names and types are nowhere in the objects.
    const text = Buffer.from(bytes).toString('latin1');
    for (const needle of ['discharge-summary', 'lab-results', 'photo-board', 'text/plain', 'image/jpeg']) expect(text.includes(needle)).toBe(false);
  }
  // 24 objects: by chance ~1.5 of 52 first/last bytes match; the paper's split makes it all 52.
  expect(startsOrEndsWithKeyChar).toBeLessThanOrEqual(Math.max(8, 4 * expectedByChance));

  // Content: objects of the two same-size records agree byte for byte no more within a record than
  // across records (random bytes agree in 1 of 256 positions).
  const a = await Promise.all(objectsOf[0]!.map(read));
  const b = await Promise.all(objectsOf[1]!.map(read));
  expect(new Set([...a, ...b].map((o) => o.length)).size).toBe(1);
  const length = a[0]!.length;
  const agree = (x: Uint8Array, y: Uint8Array) => x.reduce((n, v, i) => n + (v === y[i] ? 1 : 0), 0);
  const within: number[] = [];
  const across: number[] = [];
  for (let i = 0; i < a.length; i++) for (let j = i + 1; j < a.length; j++) within.push(agree(a[i]!, a[j]!));
  for (const x of a) for (const y of b) across.push(agree(x, y));
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const expected = length / 256;
  const sigma = Math.sqrt(length * (1 / 256) * (255 / 256));
  // Every pair is within 6σ of chance, and the within-record mean is not set apart from the across mean.
  for (const v of [...within, ...across]) expect(Math.abs(v - expected)).toBeLessThan(6 * sigma);
  expect(Math.abs(mean(within) - mean(across))).toBeLessThan(3 * sigma);
  // The first 92 bytes (the sealed heads) share no byte position more than chance would.
  const heads = [...a, ...b].map((o) => o.subarray(0, 92));
  for (let p = 0; p < 92; p++) {
    const counts = new Map<number, number>();
    for (const h of heads) counts.set(h[p]!, (counts.get(h[p]!) ?? 0) + 1);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(5);
  }
});
