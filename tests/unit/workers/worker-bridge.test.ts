import * as Comlink from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerBridge } from '../../../src/workers/worker-bridge.js';
import { caught } from '../core/helpers.js';

interface FakeApi {
  echo(value: string): Promise<string>;
  hang(): Promise<never>;
}

/** A "worker" over a MessageChannel: the API is exposed on one port, the bridge talks to the other. */
function fakeWorkers() {
  const made: { terminated: boolean; port: MessagePort }[] = [];
  const create = () => {
    const { port1, port2 } = new MessageChannel();
    const api: FakeApi = { echo: async (value) => `${value}:${made.length}`, hang: () => new Promise<never>(() => {}) };
    Comlink.expose(api, port2);
    const entry = { terminated: false, port: port1 };
    made.push(entry);
    return Object.assign(port1, {
      terminate: () => {
        entry.terminated = true;
        port1.close();
        port2.close();
      },
    }) as unknown as Worker;
  };
  return { made, create };
}

const bridges: WorkerBridge<FakeApi>[] = [];
afterEach(() => bridges.splice(0).forEach((b) => b.terminate()));

function bridge(create: () => Worker, idleMs?: number) {
  const b = new WorkerBridge<FakeApi>(create, { idleMs });
  bridges.push(b);
  return b;
}

describe('worker bridge', () => {
  it('starts the worker on the first call (or on start) and reuses it for the next calls', async () => {
    const { made, create } = fakeWorkers();
    const b = bridge(create);
    expect(b.started).toBe(false);
    expect(await b.call((api) => api.echo('a'))).toBe('a:1');
    expect(await b.call((api) => api.echo('b'))).toBe('b:1');
    expect(made).toHaveLength(1);
    const early = bridge(create).start();
    expect(early.started).toBe(true);
    expect(made).toHaveLength(2);
  });

  it('an abort during a call ends the worker and rejects with ABORTED; the next call starts a fresh worker', async () => {
    const { made, create } = fakeWorkers();
    const b = bridge(create);
    const controller = new AbortController();
    const hanging = caught(() => b.call((api) => api.hang(), controller.signal));
    await b.call((api) => api.echo('warm'));
    expect(b.busy).toBe(true);
    controller.abort();
    expect((await hanging).code).toBe('ABORTED');
    expect(made[0]!.terminated).toBe(true);
    expect(b.started).toBe(false);
    expect(b.busy).toBe(false);
    expect(await b.call((api) => api.echo('again'))).toBe('again:2');
  });

  it('an already aborted signal starts nothing', async () => {
    const { made, create } = fakeWorkers();
    const controller = new AbortController();
    controller.abort();
    expect((await caught(() => bridge(create).call((api) => api.echo('x'), controller.signal))).code).toBe('ABORTED');
    expect(made).toHaveLength(0);
  });

  it('terminate rejects every call in progress', async () => {
    const { create } = fakeWorkers();
    const b = bridge(create);
    const calls = [caught(() => b.call((api) => api.hang())), caught(() => b.call((api) => api.hang()))];
    await b.call((api) => api.echo('x'));
    b.terminate();
    expect((await Promise.all(calls)).map((e) => e.code)).toEqual(['ABORTED', 'ABORTED']);
  });

  it('a worker that dies ends its calls with ENGINE_STALLED; the next call starts a fresh worker', async () => {
    const { made, create } = fakeWorkers();
    const b = bridge(create);
    const hanging = caught(() => b.call((api) => api.hang()));
    await b.call((api) => api.echo('x'));
    made[0]!.port.dispatchEvent(new Event('error', { cancelable: true }));
    expect((await hanging).code).toBe('ENGINE_STALLED');
    expect(made[0]!.terminated).toBe(true);
    expect(await b.call((api) => api.echo('again'))).toBe('again:2');
  });

  it('an idle worker is ended after idleMs, and idleMs 0 ends it as soon as no call is left', async () => {
    const { made, create } = fakeWorkers();
    const b = bridge(create, 20);
    await b.call((api) => api.echo('x'));
    expect(b.started).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(b.started).toBe(false);
    expect(made[0]!.terminated).toBe(true);
    const once = bridge(create, 0);
    await once.call((api) => api.echo('y'));
    expect(once.started).toBe(false);
  });
});
