import { describe, expect, it } from 'vitest';
import { KeyBatch } from '../../../src/ui/controllers/key-batch.js';
import type { ProtectBatch } from '../../../src/services/vault-types.js';

/** A KeyBatch whose Argon2id is a fake that records what was begun, ended and aborted. */
function harness(delayMs = 0) {
  const begun: string[] = [];
  const ended: string[] = [];
  const aborted: string[] = [];
  const batch = new KeyBatch(
    delayMs,
    (key, signal) => {
      begun.push(key);
      signal.addEventListener('abort', () => aborted.push(key));
      return Promise.resolve({ sequenceKey: { text: key } } as unknown as ProtectBatch);
    },
    (b) => b && ended.push((b as unknown as { sequenceKey: { text: string } }).sequenceKey.text),
  );
  return { batch, begun, ended, aborted };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('KeyBatch: Argon2id of the chosen key while files are picked', () => {
  it('a valid key is stretched once after the pause and handed to protect; a second take gets the same batch', async () => {
    const { batch, begun } = harness();
    batch.prepare('Adk21937');
    await tick();
    const first = await batch.take('Adk21937');
    expect(first?.sequenceKey.text).toBe('Adk21937');
    expect(await batch.take('Adk21937')).toBe(first);
    expect(begun).toEqual(['Adk21937']);
  });

  it('an invalid key starts nothing; a take for another key than the prepared one gets none', async () => {
    const { batch, begun } = harness();
    batch.prepare('Adk 1234');
    await tick();
    expect(begun).toEqual([]);
    expect(await batch.take('Adk 1234')).toBeUndefined();
    batch.prepare('Adk21937');
    await tick();
    expect(await batch.take('Zq8#mTx4Lw')).toBeUndefined();
  });

  it('a changed key ends the old batch (X wiped) before the new one; release ends the last', async () => {
    const { batch, begun, ended } = harness();
    batch.prepare('Adk21937');
    await tick();
    batch.prepare('Zq8#mTx4Lw');
    await tick();
    expect(begun).toEqual(['Adk21937', 'Zq8#mTx4Lw']);
    expect(ended).toEqual(['Adk21937']);
    batch.release();
    await tick();
    expect(ended).toEqual(['Adk21937', 'Zq8#mTx4Lw']);
  });

  it('typing does not start Argon2id for every prefix: only the key left standing after the pause', async () => {
    const { batch, begun } = harness(30);
    for (const key of ['Adk21937', 'Adk219370', 'Adk219370x']) batch.prepare(key);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(begun).toEqual(['Adk219370x']);
  });

  it('protect pressed during the pause starts the batch at once', async () => {
    const { batch, begun } = harness(10_000);
    batch.prepare('Adk21937');
    expect((await batch.take('Adk21937'))?.sequenceKey.text).toBe('Adk21937');
    expect(begun).toEqual(['Adk21937']);
    batch.release();
  });
});
