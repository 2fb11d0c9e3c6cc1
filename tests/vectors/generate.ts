/**
 * Regenerates tests/vectors/*.json from vector-cases.ts. Run only when the format changes on purpose
 * (`npm run vectors`); the unit tests check the implementation against the committed files.
 */
import { writeFile } from 'node:fs/promises';
import { buildVector } from './build-vector.js';
import { VECTOR_CASES } from './vector-cases.js';

for (const c of VECTOR_CASES) {
  const file = new URL(`./${c.id}.json`, import.meta.url);
  await writeFile(file, `${JSON.stringify(await buildVector(c), null, 2)}\n`);
  console.log(`wrote ${file.pathname}`);
}
