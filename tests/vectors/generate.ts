/**
 * Regenerates tests/vectors/*.json (FORMAT.md §12). Run only when the format changes on purpose
 * (`npm run vectors`); the unit tests check the implementation against the committed files.
 */
import { writeFile } from 'node:fs/promises';
import { buildArgon2Vector, buildNegative, buildPositive, buildRebuild, buildTextsVector } from './build-vector.js';
import { buildKeyCardVector } from './key-card-vector.js';
import { NEGATIVE_CASES } from './negative-cases.js';
import { POSITIVE_CASES, REBUILD_CASES } from './vector-cases.js';

async function write(name: string, value: unknown): Promise<void> {
  const file = new URL(`./${name}.json`, import.meta.url);
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
  console.log(`wrote ${file.pathname}`);
}

for (const c of POSITIVE_CASES) await write(c.id, await buildPositive(c));
for (const c of REBUILD_CASES) {
  const v = await buildRebuild(c);
  if (v.expect !== 'ok') throw new Error(`${c.id}: the reader gave ${JSON.stringify(v.expect)}, it must open`);
  await write(c.id, v);
}
for (const c of NEGATIVE_CASES) {
  const v = await buildNegative(c);
  if (v.expect === 'ok' || v.expect.error !== c.expect) throw new Error(`${c.id}: the reader gave ${JSON.stringify(v.expect)}, FORMAT.md §9 says ${c.expect}`);
  await write(c.id, v);
}
await write('argon2id', await buildArgon2Vector());
await write('texts', await buildTextsVector());
await write('key-card', await buildKeyCardVector());
