/**
 * EngineClient's first-progress rule: a protect or an open whose worker never starts it (no first report)
 * is sent once more to a fresh worker; twice → ENGINE_STALLED. Workers here are MessageChannel ports
 * (Comlink endpoints) so the test runs in Node: a "silent" one never answers, a working one runs a fake
 * engine that reports 'unlock' first, as protect-engine.ts and open-engine.ts do.
 */
import * as Comlink from 'comlink';
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { EngineClient } from '../../../src/services/engine-client.js';
import type { OpenRequest, ProgressCallback } from '../../../src/workers/engine-api.js';
import { engineStep, POOL_START_STEP } from '../../../src/workers/engine-step.js';

interface FakeWorker {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  removeEventListener(type: string, listener: (event: MessageEvent) => void): void;
  terminate(): void;
}

/** A worker whose engine never runs anything sent to it (what the Firefox stalls looked like). */
function silentWorker(made: string[]): FakeWorker {
  const { port1, port2 } = new MessageChannel();
  made.push('silent');
  void port2; // nobody listens on the other side
  return endpoint(port1);
}

/** A worker whose engine opens by reporting 'unlock', then answering. */
function workingWorker(made: string[]): FakeWorker {
  const { port1, port2 } = new MessageChannel();
  made.push('working');
  Comlink.expose(
    {
      async open(_request: OpenRequest, onProgress: ProgressCallback) {
        await onProgress({ phase: 'unlock', done: 0, total: 1 });
        return { kind: 'file', answeredBy: made.length };
      },
    },
    port2 as unknown as Comlink.Endpoint,
  );
  return endpoint(port1);
}

/** A worker whose engine reports 'unlock' and 'decrypt' 3/8, then never again (a stall after the start). */
function stallingWorker(made: string[]): FakeWorker {
  const { port1, port2 } = new MessageChannel();
  made.push('stalling');
  Comlink.expose(
    {
      async open(_request: OpenRequest, onProgress: ProgressCallback) {
        await onProgress({ phase: 'unlock', done: 0, total: 1 });
        await onProgress({ phase: 'decrypt', done: 3, total: 8 });
        return new Promise(() => {});
      },
      async whereNow() {
        return { step: 'open: decrypting', sinceMs: 42 };
      },
    },
    port2 as unknown as Comlink.Endpoint,
  );
  return endpoint(port1);
}

/** A worker whose engine reports 'unlock', then gets stuck constructing a pool worker (what Firefox did). */
function stuckStartingPool(made: string[]): FakeWorker {
  const { port1, port2 } = new MessageChannel();
  made.push('stuck');
  Comlink.expose(
    {
      async open(_request: OpenRequest, onProgress: ProgressCallback) {
        await onProgress({ phase: 'unlock', done: 0, total: 1 });
        engineStep(POOL_START_STEP);
        return new Promise(() => {});
      },
    },
    port2 as unknown as Comlink.Endpoint,
  );
  return endpoint(port1);
}

/** A MessagePort as a Worker: Comlink talks over it, `terminate` closes it. */
function endpoint(port: InstanceType<typeof MessageChannel>['port1']): FakeWorker {
  return Object.assign(port, { terminate: () => port.close() }) as unknown as FakeWorker;
}

const request = { objects: [], sequenceKey: 'adk21937', recordKey: new Uint8Array(16), recordId: 'x', sink: 'memory' } as unknown as OpenRequest;

describe('engine calls a worker never started', () => {
  it('an open whose first worker never reports is sent to a fresh worker, which answers', async () => {
    const made: string[] = [];
    const kinds = ['silent', 'working'];
    const client = new EngineClient(() => (kinds.shift() === 'silent' ? silentWorker(made) : workingWorker(made)) as unknown as Worker, { firstProgressMs: 200 });
    const phases: string[] = [];
    const result = await client.open(request, { onProgress: (p) => phases.push(p.phase) });
    expect(made).toEqual(['silent', 'working']);
    expect(result).toMatchObject({ kind: 'file', answeredBy: 2 });
    expect(phases).toEqual(['unlock']);
    expect(client.running).toBe(0);
  });

  it('two workers that never start it end the open with ENGINE_STALLED, and no worker is left', async () => {
    const made: string[] = [];
    const client = new EngineClient(() => silentWorker(made) as unknown as Worker, { firstProgressMs: 150 });
    const error = await client.open(request).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENGINE_STALLED' });
    expect(made).toEqual(['silent', 'silent']);
    expect(client.running).toBe(0);
  });

  it('a call that stops reporting after it started ends in ENGINE_STALLED naming its last report, once, and says so in the console', async () => {
    const made: string[] = [];
    const client = new EngineClient(() => stallingWorker(made) as unknown as Worker, { firstProgressMs: 150, stallMs: 300 });
    const warned: string[] = [];
    const warn = console.warn;
    console.warn = (line: string) => warned.push(line);
    try {
      const error = await client.open(request).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ENGINE_STALLED', details: { idleMs: 300, lastProgress: { phase: 'decrypt', done: 3, total: 8 }, engineStep: { step: 'open: decrypting', sinceMs: 42 } } });
    } finally {
      console.warn = warn;
    }
    expect(made).toEqual(['stalling']); // it had started: not sent again
    expect(warned).toEqual([expect.stringMatching(/^ehr-vault engine: no progress for 300 ms; the last report was decrypt 3\/8, \d+ ms after the call began; the worker is at "open: decrypting" since 42 ms; steps posted last: .+$/)]);
    expect(client.running).toBe(0);
  });

  it('a call whose worker is stuck starting its pool is sent once more to a fresh worker', async () => {
    const made: string[] = [];
    const kinds = ['stuck', 'working'];
    const client = new EngineClient(() => (kinds.shift() === 'stuck' ? stuckStartingPool(made) : workingWorker(made)) as unknown as Worker, { firstProgressMs: 5_000, poolStartStuckMs: 200 });
    const warned: string[] = [];
    const warn = console.warn;
    console.warn = (line: string) => warned.push(line);
    try {
      const result = await client.open(request);
      expect(result).toMatchObject({ kind: 'file', answeredBy: 2 });
    } finally {
      console.warn = warn;
    }
    expect(made).toEqual(['stuck', 'working']);
    expect(warned).toEqual(['ehr-vault engine: a worker was stuck starting its pool for 200 ms; trying a fresh worker']);
    expect(client.running).toBe(0);
  });

  it('a worker that answers at once is not sent the call twice', async () => {
    const made: string[] = [];
    const client = new EngineClient(() => workingWorker(made) as unknown as Worker, { firstProgressMs: 200 });
    await client.open(request);
    expect(made).toEqual(['working']);
  });
});
