/**
 * Fuzzing the merge (FORMAT.md §7, "Merging"):
 *
 * - planMerge against a reference classifier written from the spec, over fragments whose frames are
 *   authentic (sealed with the record key) but describe any chain: dropped, duplicated, re-pointed,
 *   re-numbered, foreign and tampered links. Success must mean exactly the key's ring; every failure must be
 *   the code the spec gives for the first step that fails.
 * - mergeFragments over real fragments damaged at the byte level (bit flips, cuts, extensions, field
 *   overrides with absurd values, foreign and cross-record fragments, reordering, duplicates).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes, deriveRecordKeys, mergeFragments, parseFragment, planMerge, sealFrame, toHex, type ParsedFragment, type RecordKeys } from '../../src/core/index.js';
import { applyFragmentOp, family, fragmentOpArb, makeFixtures, type Fixture } from './fixtures.js';
import { MERGE_CODES, count, expectTypedError, installAllocationGuard, runs, settle, summary, timeoutFor } from './harness.js';
import { referenceMerge, type ReferenceFrame } from './reference.js';

let fixtures: Fixture[];
let foreignKeys: RecordKeys;
let restoreGuard: () => void;

beforeAll(async () => {
  fixtures = await makeFixtures();
  foreignKeys = await deriveRecordKeys(new Uint8Array(16).fill(0x5a));
  restoreGuard = installAllocationGuard();
});

afterAll(() => {
  restoreGuard?.();
  console.log(summary('merge.fuzz.test.ts'));
});

// ---------------------------------------------------------------------------------------------------------
// planMerge over authentic frames describing arbitrary chains

interface FrameSpec {
  indexChar: string;
  nextChar: string;
  n: number;
  position: number;
  payloadLength: number;
  auth: 'ok' | 'foreign' | 'tampered';
}

type Perturbation =
  | { kind: 'drop'; i: number }
  | { kind: 'duplicate'; i: number }
  | { kind: 'next'; i: number; c: number }
  | { kind: 'index'; i: number; c: number }
  | { kind: 'n'; i: number; n: number }
  | { kind: 'position'; i: number; p: number }
  | { kind: 'foreign'; i: number }
  | { kind: 'tampered'; i: number }
  | { kind: 'swapNext'; i: number; j: number }
  | { kind: 'outsider'; c: number; p: number };

const perturbationArb: fc.Arbitrary<Perturbation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('drop' as const), i: fc.nat() }) },
  fc.record({ kind: fc.constant('duplicate' as const), i: fc.nat() }),
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('next' as const), i: fc.nat(), c: fc.nat() }) },
  fc.record({ kind: fc.constant('index' as const), i: fc.nat(), c: fc.nat() }),
  fc.record({ kind: fc.constant('n' as const), i: fc.nat(), n: fc.integer({ min: 8, max: 64 }) }),
  fc.record({ kind: fc.constant('position' as const), i: fc.nat(), p: fc.nat({ max: 63 }) }),
  fc.record({ kind: fc.constant('foreign' as const), i: fc.nat() }),
  fc.record({ kind: fc.constant('tampered' as const), i: fc.nat() }),
  fc.record({ kind: fc.constant('swapNext' as const), i: fc.nat(), j: fc.nat() }),
  fc.record({ kind: fc.constant('outsider' as const), c: fc.nat(), p: fc.nat({ max: 63 }) }),
);

const OUTSIDERS = ['Z', 'é', '😺', '中', '~'];

function perturb(key: readonly string[], perturbations: readonly Perturbation[], lengths: readonly number[], ranks: readonly number[]): FrameSpec[] {
  const n = key.length;
  const pool = [...key, ...OUTSIDERS.filter((c) => !key.includes(c))];
  let specs: FrameSpec[] = key.map((c, i) => ({ indexChar: c, nextChar: key[(i + 1) % n]!, n, position: i, payloadLength: lengths[i % lengths.length]!, auth: 'ok' }));
  for (const p of perturbations) {
    if (p.kind === 'outsider') {
      const c = pool[p.c % pool.length]!;
      specs.push({ indexChar: c, nextChar: pool[(p.c + 1) % pool.length]!, n, position: p.p % n, payloadLength: 3, auth: 'ok' });
      continue;
    }
    if (specs.length === 0) continue;
    const i = p.i % specs.length;
    const s = specs[i]!;
    switch (p.kind) {
      case 'drop':
        specs.splice(i, 1);
        break;
      case 'duplicate':
        specs.push({ ...s });
        break;
      case 'next':
        s.nextChar = pool[p.c % pool.length]!;
        break;
      case 'index':
        s.indexChar = pool[p.c % pool.length]!;
        break;
      case 'n':
        s.n = p.n;
        s.position %= p.n;
        break;
      case 'position':
        s.position = p.p % s.n;
        break;
      case 'foreign':
      case 'tampered':
        s.auth = p.kind;
        break;
      case 'swapNext': {
        const t = specs[p.j % specs.length]!;
        [s.nextChar, t.nextChar] = [t.nextChar, s.nextChar];
        break;
      }
    }
  }
  specs = specs.map((s, i) => [s, (ranks[i % ranks.length] ?? 0) * 1000 + i] as const).sort((a, b) => a[1] - b[1]).map(([s]) => s);
  return specs;
}

/** Sealed fragments by fixture and frame fields: the same frames recur across cases, and sealing costs two HMACs. */
const sealed = new Map<string, Uint8Array>();

async function buildFragment(f: Fixture, spec: FrameSpec): Promise<Uint8Array> {
  const id = `${f.name}|${JSON.stringify(spec)}`;
  const cached = sealed.get(id);
  if (cached) return cached;
  const frame = await sealFrame(spec.auth === 'foreign' ? foreignKeys : f.keys, spec);
  const prefix = frame.prefix.slice();
  // A damaged header MAC: the last byte of the 46-byte fixed header.
  if (spec.auth === 'tampered') prefix[prefix.length - 1]! ^= 0x01;
  const bytes = concatBytes([prefix, new Uint8Array(spec.payloadLength).fill(spec.payloadLength), frame.suffix]);
  sealed.set(id, bytes);
  return bytes;
}

describe('fuzz: planMerge against the merge steps of FORMAT.md §7', () => {
  const caseArb = fc.record({
    fixture: fc.nat(),
    perturbations: fc.array(perturbationArb, { maxLength: 3 }),
    lengths: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
    ranks: fc.array(fc.nat({ max: 100 }), { minLength: 1, maxLength: 70 }),
  });

  it(
    'authentic frames describing any chain: success means exactly the key ring, failures carry the spec code',
    async () => {
      // Fixtures with distinct keys; the 64-character key is fuzzed too, less often (it costs 8× more).
      const pool = fixtures.filter((f) => ['ascii', 'emoji', 'mixed-width', 'ascii-reused-key-other-sequence'].includes(f.name));
      const long = fixtures.find((f) => f.name === 'long-key-empty-body')!;
      await fc.assert(
        fc.asyncProperty(caseArb, async ({ fixture, perturbations, lengths, ranks }) => {
          const f = fixture % 10 === 9 ? long : pool[fixture % pool.length]!;
          const key = f.sequenceKey.chars;
          const specs = perturb(key, perturbations, lengths, ranks);
          const parsed: ParsedFragment[] = [];
          for (const [i, spec] of specs.entries()) parsed.push(parseFragment(await buildFragment(f, spec), i));
          const ref = referenceMerge(
            key,
            specs.map((s): ReferenceFrame => ({ indexChar: s.indexChar, nextChar: s.nextChar, n: s.n, position: s.position, auth: s.auth })),
          );
          const outcome = await settle(() => planMerge(f.keys, f.sequenceKey, parsed));
          count('planMerge', outcome);
          const where = `${f.name}: ${JSON.stringify(specs.map((s) => [s.indexChar, s.nextChar, s.n, s.position, s.auth]))}`;
          if (!ref.ok) {
            const error = expectTypedError(outcome, MERGE_CODES, where);
            if (!ref.codes.includes(error.code)) expect.fail(`${where}: got ${error.code}, the spec says ${ref.codes.join(' or ')}`);
            if (error.code === 'FRAGMENT_MISSING') expect(error.details.missing, where).toEqual(ref.missing);
            if (error.code === 'FRAGMENT_DUPLICATE') expect(ref.duplicates, where).toContain(error.details.indexChar);
            return;
          }
          if (!outcome.ok) expect.fail(`${where}: the spec accepts these fragments but planMerge threw ${String(outcome.error)}`);
          expect(outcome.value.map((p) => p.source), where).toEqual(ref.order);
          outcome.value.forEach((p, i) => {
            if (p.indexChar !== key[i] || p.nextChar !== key[(i + 1) % key.length] || p.position !== i || p.n !== key.length) expect.fail(`${where}: accepted a chain that is not the key ring at ${i}`);
          });
        }),
        runs(2),
      );
    },
    timeoutFor(2, 10),
  );
});

// ---------------------------------------------------------------------------------------------------------
// mergeFragments over byte-level damage

describe('fuzz: mergeFragments over damaged, foreign and cross-record fragments', () => {
  it(
    'never throws untyped; a success carries only authentic frames in ring order and the given payloads',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat(), fc.array(fragmentOpArb, { minLength: 1, maxLength: 3 }), async (which, ops) => {
          const f = fixtures[which % fixtures.length]!;
          let list: Uint8Array[] = f.fragments.slice();
          for (const op of ops) list = applyFragmentOp(list, op, fixtures);
          const outcome = await settle(() => mergeFragments(f.keys, f.sequenceKey, list));
          count('mergeFragments', outcome);
          const where = `${f.name} after ${JSON.stringify(ops, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? toHex(v) : v))}`;
          if (!outcome.ok) {
            expectTypedError(outcome, MERGE_CODES, where);
            return;
          }
          // Frames must be authentic frames of this record key and sequence key, position by position.
          const authentic = family(fixtures, f);
          const { envelope, order } = outcome.value;
          expect(order.length, where).toBe(f.sequenceKey.n);
          expect(new Set(order.map((p) => p.source)).size, where).toBe(order.length);
          order.forEach((p, i) => {
            const frame = toHex(concatBytes([p.prefix, p.suffix]));
            const known = authentic.some((g) => {
              const bytes = g.fragments[i]!;
              const other = parseFragment(bytes);
              return toHex(concatBytes([other.prefix, other.suffix])) === frame;
            });
            if (!known) expect.fail(`${where}: position ${i} holds a frame that no record of this key produced`);
          });
          const expected = concatBytes(order.map((p) => list[p.source]!.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength)));
          expect(toHex(envelope), where).toBe(toHex(expected));
        }),
        runs(3),
      );
    },
    timeoutFor(3, 10),
  );
});
