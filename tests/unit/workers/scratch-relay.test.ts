import { afterEach, describe, expect, it, vi } from 'vitest';
import { chooseSink, isRelaySink } from '../../../src/workers/output-sink.js';
import { closeScratchWriters, probeSharedWriters, relayWrites, scratchWriter, transferables, writeRelayed } from '../../../src/workers/scratch-file.js';

/**
 * An origin-private file system in memory whose sync access handles behave like an engine's: `shared`
 * honours 'readwrite-unsafe' (Chromium 121+), `exclusive` ignores it and refuses a second open handle
 * (Firefox, Safari, Chromium before 121: 'No modification allowed').
 */
function fakeOpfs(kind: 'shared' | 'exclusive') {
  const files = new Map<string, { bytes: Uint8Array; open: number }>();
  const fileHandle = (name: string) => ({
    async createSyncAccessHandle(options?: { mode?: string }) {
      const file = files.get(name)!;
      if (file.open > 0 && !(kind === 'shared' && options?.mode === 'readwrite-unsafe')) throw new DOMException('No modification allowed', 'NoModificationAllowedError');
      file.open++;
      let closed = false;
      return {
        write(buffer: Uint8Array, { at }: { at: number }) {
          if (closed) throw new DOMException('closed', 'InvalidStateError');
          if (at + buffer.length > file.bytes.length) {
            const grown = new Uint8Array(at + buffer.length);
            grown.set(file.bytes);
            file.bytes = grown;
          }
          file.bytes.set(buffer, at);
          return buffer.length;
        },
        truncate(size: number) {
          const next = new Uint8Array(size);
          next.set(file.bytes.subarray(0, size));
          file.bytes = next;
        },
        flush() {},
        close() {
          if (!closed) file.open--;
          closed = true;
        },
      };
    },
    async getFile() {
      return new File([files.get(name)!.bytes as BlobPart], name);
    },
  });
  const directory = {
    async getFileHandle(name: string, { create = false } = {}) {
      if (!files.has(name)) {
        if (!create) throw new DOMException('missing', 'NotFoundError');
        files.set(name, { bytes: new Uint8Array(0), open: 0 });
      }
      return fileHandle(name);
    },
  };
  vi.stubGlobal('navigator', { storage: { getDirectory: async () => ({ getDirectoryHandle: async () => directory }) } });
  return files;
}

afterEach(async () => {
  await closeScratchWriters();
  vi.unstubAllGlobals();
});

describe('scratch files with one writer per file', () => {
  it('chooseSink marks the disk sink `relay` where a second handle is refused, not where writers may share', async () => {
    const exclusive = fakeOpfs('exclusive');
    const relay = await chooseSink({ sink: 'disk', scratch: 'a.bin' }, 1000, 0);
    expect(relay).toEqual({ kind: 'disk', file: 'a.bin', base: 0, relay: true });
    expect(isRelaySink(relay)).toBe(true);
    expect(exclusive.get('a.bin')).toMatchObject({ open: 0 });
    expect(exclusive.get('a.bin')!.bytes.length).toBe(1000);

    fakeOpfs('shared');
    const shared = await chooseSink({ sink: 'disk', scratch: 'b.bin' }, 1000, 5);
    expect(shared).toEqual({ kind: 'disk', file: 'b.bin', base: 5 });
    expect(isRelaySink(shared)).toBe(false);
  });

  it('without OPFS the output stays in memory', async () => {
    vi.stubGlobal('navigator', { storage: {} });
    expect(await chooseSink({ sink: 'disk', scratch: 'c.bin' }, 1000, 0)).toEqual({ kind: 'memory' });
  });

  it('probeSharedWriters closes both handles either way', async () => {
    const files = fakeOpfs('exclusive');
    await (await navigator.storage.getDirectory()).getDirectoryHandle('x').then((d) => d.getFileHandle('p.bin', { create: true }));
    expect(await probeSharedWriters('p.bin')).toBe(false);
    expect(files.get('p.bin')!.open).toBe(0);
  });

  it('a relaying thread collects its writes (whole buffers handed over, parts copied) and the single writer puts them in place', async () => {
    const files = fakeOpfs('exclusive');
    await chooseSink({ sink: 'disk', scratch: 'r.bin' }, 12, 0);
    const whole = Uint8Array.of(1, 2, 3, 4);
    const shared = new Uint8Array(16).fill(9);
    const writes = await relayWrites(async () => {
      const writer = await scratchWriter('r.bin');
      writer.write(whole, { at: 0 });
      writer.write(shared.subarray(4, 8), { at: 8 });
      writer.write(whole, { at: 4 });
    });
    // Nothing was opened while relaying: the file has no handle, and no writer was cached.
    expect(files.get('r.bin')!.open).toBe(0);
    expect(writes.map((w) => w.at)).toEqual([0, 8, 4]);
    expect(writes[0]!.bytes).toBe(whole);
    expect(writes[1]!.bytes.buffer).not.toBe(shared.buffer);
    expect(transferables(writes)).toEqual([whole.buffer, writes[1]!.bytes.buffer]);
    shared.fill(0);

    await writeRelayed('r.bin', writes);
    expect(files.get('r.bin')!.open).toBe(1);
    await closeScratchWriters();
    expect(files.get('r.bin')!.open).toBe(0);
    expect([...files.get('r.bin')!.bytes]).toEqual([1, 2, 3, 4, 1, 2, 3, 4, 9, 9, 9, 9]);
  });

  it('after relaying, the thread writes directly again', async () => {
    const files = fakeOpfs('exclusive');
    await chooseSink({ sink: 'disk', scratch: 'd.bin' }, 4, 0);
    await relayWrites(async () => undefined);
    (await scratchWriter('d.bin')).write(Uint8Array.of(7, 7), { at: 1 });
    await closeScratchWriters();
    expect([...files.get('d.bin')!.bytes]).toEqual([0, 7, 7, 0]);
  });
});
