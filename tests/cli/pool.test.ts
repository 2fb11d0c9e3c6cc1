import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRecord } from '../../src/core/record.js';
import { TEST_KDF } from '../../src/cli/kdf-choice.js';
import { inShard, parseShard, shardOf } from '../../src/cli/inputs.js';
import { FolderStore, type ObjectStore } from '../../src/cli/storage.js';
import { ProtectPool, WorkerTaskError } from '../../src/cli/worker-pool.js';
import { protectWorkerUrl, TSX_WORKER_URL } from '../../src/cli/worker-source.js';
import { pseudoRandomBytes, tempDir } from '../integration/stack-helpers.js';

describe('protect worker pool and shard assignment', () => {
  let temp: { path: string; remove: () => Promise<void> };
  beforeAll(async () => {
    temp = await tempDir('cli-pool');
  });
  afterAll(async () => {
    await temp?.remove();
  });

  it('more tasks than worker threads: every task runs, each record opens to its file', async () => {
    const pool = new ProtectPool(2);
    try {
      const files = await Promise.all(
        Array.from({ length: 7 }, async (_, i) => {
          const bytes = pseudoRandomBytes(3_000 + i, 90 + i);
          const path = join(temp.path, `f${i}`);
          await writeFile(path, bytes);
          return { path, bytes };
        }),
      );
      const results = await Promise.all(files.map((f) => pool.run({ path: f.path, name: 'f', sequenceKey: 'pXlK#12345y', kdf: TEST_KDF })));
      for (const [i, r] of results.entries()) {
        expect((await openRecord(r.objects, 'pXlK#12345y', r.recordKey, r.recordId)).body).toEqual(files[i]!.bytes);
      }
      // A failing task is a typed error that crossed the thread, and the pool keeps working.
      const error = await pool.run({ path: join(temp.path, 'missing'), name: 'x', sequenceKey: 'pXlK#12345y', kdf: TEST_KDF }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkerTaskError);
      expect((error as WorkerTaskError).code).toBe('INPUT_UNREADABLE');
      expect((await pool.run({ path: files[0]!.path, name: 'f', sequenceKey: 'pXlK#12345y', kdf: TEST_KDF })).objects).toHaveLength(11 + 2); // n = 11 data objects and the app's 2 parity objects
    } finally {
      await pool.close();
    }
  });

  it('workers run the esbuild bundle (a data: URL), or the tsx boot with EHRV_WORKER_BUNDLE=0; both write records that open', async () => {
    expect((await protectWorkerUrl()).protocol).toBe('data:');
    expect(await protectWorkerUrl({ EHRV_WORKER_BUNDLE: '0' })).toBe(TSX_WORKER_URL);
    const bytes = pseudoRandomBytes(70_000, 17);
    const path = join(temp.path, 'boot.bin');
    await writeFile(path, bytes);
    for (const bundle of ['1', '0']) {
      const saved = process.env.EHRV_WORKER_BUNDLE;
      process.env.EHRV_WORKER_BUNDLE = bundle;
      const pool = new ProtectPool(1);
      try {
        // Once the worker is up, tasks go to it (before, this thread protects them itself).
        await pool.ready();
        const r = await pool.run({ path, name: 'boot.bin', sequenceKey: 'pXlK#12345y', kdf: TEST_KDF });
        expect((await openRecord(r.objects, 'pXlK#12345y', r.recordKey, r.recordId)).body).toEqual(bytes);
      } finally {
        await pool.close();
        if (saved === undefined) delete process.env.EHRV_WORKER_BUNDLE;
        else process.env.EHRV_WORKER_BUNDLE = saved;
      }
    }
  });

  it('a worker stores what it sealed itself (a folder sink), reusing its buffers: records of every size open from the folder', async () => {
    const pool = new ProtectPool(1);
    const out = join(temp.path, 'delivered');
    const store = new FolderStore(out);
    try {
      await pool.ready();
      // Large, small, large again, and sizes between: each record's objects land in buffers the last ones used.
      const sizes = [900_000, 3_000, 1_200_000, 40_000, 700_000, 1_250_000];
      for (const [i, size] of sizes.entries()) {
        const bytes = pseudoRandomBytes(size, 300 + i);
        const path = join(temp.path, `d${i}.bin`);
        await writeFile(path, bytes);
        const sealed = await pool.seal({ path, name: `d${i}.bin`, sequenceKey: 'pXlK#12345y', kdf: TEST_KDF, digests: false });
        expect(sealed.sizes).toHaveLength(13);
        await sealed.deliver(store);
        const objects = await store.getMany(sealed.names);
        expect(objects.map((o) => o?.length)).toEqual(sealed.sizes);
        const opened = await openRecord(objects.map((o) => o!), 'pXlK#12345y', sealed.recordKey, sealed.recordId);
        expect(Buffer.from(opened.body).equals(Buffer.from(bytes))).toBe(true);
        await expect(sealed.deliver(store)).rejects.toThrow('once');
      }
    } finally {
      await pool.close();
    }
  });

  it('a store without a sink gets the bytes here; a released record is gone; a folder that cannot be written is OUTPUT_FAILED', async () => {
    const pool = new ProtectPool(1);
    try {
      await pool.ready();
      const bytes = pseudoRandomBytes(50_000, 41);
      const path = join(temp.path, 'plain.bin');
      await writeFile(path, bytes);
      const task = { path, name: 'plain.bin', sequenceKey: 'pXlK#12345y', kdf: TEST_KDF };
      const received: Uint8Array[] = [];
      const own: ObjectStore = { description: 'memory', getMany: async () => [], putMany: async (objects) => void received.push(...objects.map((o) => o.bytes)), deleteMany: async () => {} };
      const sealed = await pool.seal(task);
      await sealed.deliver(own);
      expect((await openRecord(received, 'pXlK#12345y', sealed.recordKey, sealed.recordId)).body).toEqual(bytes);

      const dropped = await pool.seal(task);
      dropped.release();
      await expect(dropped.take()).rejects.toThrow('once');

      // A file where the folder should be: the worker's write fails, typed, and the next record still works.
      const blocked = join(temp.path, 'not-a-folder');
      await writeFile(blocked, 'x');
      const failing = await pool.seal(task);
      const error = await failing.deliver(new FolderStore(blocked)).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'OUTPUT_FAILED' });
      const after = await pool.run(task);
      expect((await openRecord(after.objects, 'pXlK#12345y', after.recordKey, after.recordId)).body).toEqual(bytes);
    } finally {
      await pool.close();
    }
  });

  it('shards are a stable partition of the inputs, roughly even', () => {
    const inputs = Array.from({ length: 4_000 }, (_, i) => ({ key: `archive/p${i % 97}/IM${i}.dcm`, path: '' }));
    const shards = [1, 2, 3, 4].map((index) => inShard(inputs, { index, count: 4 }));
    expect(shards.flat().map((i) => i.key).sort()).toEqual(inputs.map((i) => i.key).sort());
    for (const s of shards) expect(s.length).toBeGreaterThan(850);
    expect(shardOf('archive/p1/IM1.dcm', 4)).toBe(shardOf('archive/p1/IM1.dcm', 4));
    expect(parseShard('2/8')).toEqual({ index: 2, count: 8 });
    for (const bad of ['0/4', '5/4', '1/0', 'a/b', '1']) expect(() => parseShard(bad)).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});
