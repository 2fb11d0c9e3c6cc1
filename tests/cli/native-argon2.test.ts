import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/core/bytes.js';
import { stretchSequenceKey } from '../../src/core/kdf.js';
import { parseSequenceKey } from '../../src/core/sequence-key.js';
import { argon2Location, cliStretch } from '../../src/cli/native-argon2.js';

interface Case {
  password: string;
  salt: string;
  memoryKiB: number;
  passes: number;
  parallelism: number;
  tag: string;
}

const vectors = JSON.parse(await readFile(new URL('../vectors/argon2id.json', import.meta.url), 'utf8')) as { cases: Case[] };
/** parseSequenceKey refuses keys shorter than 8 characters or with repeats; the vectors' passwords are keys. */
const key = (text: string) => parseSequenceKey(text);

describe('the CLI\'s Argon2id (the argon2 package where it loads, hash-wasm otherwise)', () => {
  it('the native package is installed here and is what cliStretch uses', async () => {
    expect(argon2Location()).toMatch(/argon2/);
    expect(await cliStretch()).not.toBe(stretchSequenceKey);
    expect(await cliStretch({ EHRV_ARGON2: 'wasm' })).toBe(stretchSequenceKey);
  });

  it.each(vectors.cases.map((c) => [c.password, c] as const))('reproduces tests/vectors/argon2id.json %s, as hash-wasm does', async (_, c) => {
    const params = { memoryKiB: c.memoryKiB, passes: c.passes, parallelism: c.parallelism };
    const native = await cliStretch();
    expect(toHex(await native(key(c.password), fromHex(c.salt), params))).toBe(c.tag);
    expect(toHex(await stretchSequenceKey(key(c.password), fromHex(c.salt), params))).toBe(c.tag);
  });

  it('refuses what the core refuses, with the same typed error', async () => {
    const native = await cliStretch();
    const k = key('adk21937');
    for (const [salt, params] of [
      [new Uint8Array(16), { memoryKiB: 4, passes: 1, parallelism: 1 }],
      [new Uint8Array(16), { memoryKiB: 64, passes: 1, parallelism: 2 }],
      [new Uint8Array(8), { memoryKiB: 64, passes: 1, parallelism: 1 }],
    ] as const) {
      const a = await native(k, salt, params).catch((e: unknown) => e);
      const b = await stretchSequenceKey(k, salt, params).catch((e: unknown) => e);
      expect(a).toMatchObject({ code: 'INPUT_INVALID' });
      expect(b).toMatchObject({ code: 'INPUT_INVALID' });
    }
  });
});
