/**
 * Sharing across accounts (issue #13): an opaque storage id names the owner's storage in a share link;
 * anyone holding the link gets GET/HEAD URLs for names they already know, and nothing else.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../server/start.js';
import { createStorageIds } from '../../server/storage-ids.js';
import { errorCode, fragmentName, makeDist, makeTempDir, presignOne, putFields, send, type PresignResponse } from './helpers.js';

const ALICE = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-0123456789abcdef01';

function shared(appUrl: string, body: unknown): Promise<Response> {
  return fetch(`${appUrl}/api/shared/presign`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function storageIdOf(appUrl: string, token: string): Promise<string> {
  const response = await fetch(`${appUrl}/api/storage-id`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { storageId: string }).storageId;
}

describe('storage ids', () => {
  it('are opaque, stable for a user, distinct between users, and unforgeable', () => {
    const ids = createStorageIds(randomBytes(32));
    const alice = ids.idFor('alice');
    expect(alice).toMatch(/^[A-Za-z0-9_-]{80}$/);
    expect(alice).not.toContain('alice');
    expect(ids.idFor('alice')).toBe(alice);
    expect(ids.idFor('bob')).not.toBe(alice);
    // Same length for short and long user ids up to 32 bytes: the id does not give the user id's length away.
    expect(ids.idFor('a').length).toBe(ids.idFor('a'.repeat(32)).length);
    expect(ids.userFor(alice)).toBe('alice');
    const forged = alice.slice(0, 40) + (alice[40] === 'A' ? 'B' : 'A') + alice.slice(41);
    expect(ids.userFor(forged)).toBeUndefined();
    expect(createStorageIds(randomBytes(32)).userFor(alice)).toBeUndefined();
    expect(ids.userFor('users/alice')).toBeUndefined();
  });
});

describe('shared presign', () => {
  let stack: Stack;
  let removeTemp: () => Promise<void>;
  let dataDir: string;

  beforeAll(async () => {
    const temp = await makeTempDir('shared');
    removeTemp = temp.remove;
    dataDir = `${temp.path}/s3`;
    stack = await startStack({
      appPort: 0,
      localS3: { port: 0, dataDir },
      distDir: await makeDist(temp.path),
      tokens: { [ALICE]: 'alice', [BOB]: 'bob' },
      // Enough for the tests before the limit is tested (9 requests), then refused.
      sharedRateLimit: { burst: 12, perSecond: 0.01 },
    });
  });

  afterAll(async () => {
    await stack?.close();
    await removeTemp?.();
  });

  it('with no token: GET and HEAD of the owner\'s named objects only; PUT, DELETE and LIST are refused', async () => {
    const name = fragmentName();
    const bytes = randomBytes(2048);
    expect((await send(await presignOne(stack.appUrl, ALICE, 'put', { name, ...putFields(bytes) }), bytes)).status).toBe(200);
    const storage = await storageIdOf(stack.appUrl, ALICE);

    const get = await shared(stack.appUrl, { storage, operation: 'get', objects: [{ name }] });
    expect(get.status).toBe(200);
    const { urls } = (await get.json()) as PresignResponse;
    const fetched = await send(urls[0]!);
    expect(fetched.status).toBe(200);
    expect(Buffer.from(await fetched.arrayBuffer()).equals(bytes)).toBe(true);

    for (const operation of ['put', 'delete']) {
      const refused = await shared(stack.appUrl, { storage, operation, objects: [{ name, ...(operation === 'put' ? putFields(bytes) : {}) }] });
      expect(refused.status).toBe(403);
      expect(await errorCode(refused)).toBe('READ_ONLY');
    }
    // An unknown or forged storage id, a missing one, and an extra field.
    expect(await errorCode(await shared(stack.appUrl, { storage: storage.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), operation: 'get', objects: [{ name }] }))).toBe('STORAGE_NOT_FOUND');
    expect(await errorCode(await shared(stack.appUrl, { operation: 'get', objects: [{ name }] }))).toBe('INVALID_STORAGE');
    expect(await errorCode(await shared(stack.appUrl, { storage, operation: 'get', objects: [{ name }], prefix: '' }))).toBe('UNKNOWN_FIELD');
    // The object is still there: nothing above changed it.
    expect((await send((((await (await shared(stack.appUrl, { storage, operation: 'head', objects: [{ name }] })).json()) as PresignResponse).urls[0]!))).status).toBe(200);
  });

  it("another account's token naming the owner's storage gets 403 for PUT and DELETE, and may read", async () => {
    const name = fragmentName();
    const bytes = randomBytes(512);
    expect((await send(await presignOne(stack.appUrl, ALICE, 'put', { name, ...putFields(bytes) }), bytes)).status).toBe(200);
    const storageId = await storageIdOf(stack.appUrl, ALICE);
    const asBob = (body: unknown) => fetch(`${stack.appUrl}/api/presign`, { method: 'POST', headers: { authorization: `Bearer ${BOB}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const operation of ['put', 'delete']) {
      const refused = await asBob({ storageId, operation, objects: [{ name, ...(operation === 'put' ? putFields(bytes) : {}) }] });
      expect(refused.status).toBe(403);
      expect(await errorCode(refused)).toBe('NOT_YOUR_STORAGE');
    }
    // Reads are what the link allows anyone; they reach alice's object, byte for byte.
    const read = await asBob({ storageId, operation: 'get', objects: [{ name }] });
    expect(read.status).toBe(200);
    const fetched = await send(((await read.json()) as PresignResponse).urls[0]!);
    expect(Buffer.from(await fetched.arrayBuffer()).equals(bytes)).toBe(true);
    // Alice naming her own storage, a forged id, and a storageId that is not a string.
    expect((await fetch(`${stack.appUrl}/api/presign`, { method: 'POST', headers: { authorization: `Bearer ${ALICE}`, 'content-type': 'application/json' }, body: JSON.stringify({ storageId, operation: 'head', objects: [{ name }] }) })).status).toBe(200);
    expect(await errorCode(await asBob({ storageId: storageId.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), operation: 'delete', objects: [{ name }] }))).toBe('STORAGE_NOT_FOUND');
    expect(await errorCode(await asBob({ storageId: 7, operation: 'get', objects: [{ name }] }))).toBe('INVALID_STORAGE');
    expect(await errorCode(await asBob({ storageId, operation: 'get', objects: [{ name }], extra: 1 }))).toBe('UNKNOWN_FIELD');
  });

  it("another account's token cannot write or delete the owner's objects: its URLs stay in its own prefix", async () => {
    const name = fragmentName();
    const bytes = randomBytes(512);
    expect((await send(await presignOne(stack.appUrl, ALICE, 'put', { name, ...putFields(bytes) }), bytes)).status).toBe(200);
    const del = await presignOne(stack.appUrl, BOB, 'delete', { name });
    expect(new URL(del.url).pathname).toBe(`/ehr-vault/users/bob/fragments/${name}`);
    await send(del);
    const storage = await storageIdOf(stack.appUrl, ALICE);
    const head = ((await (await shared(stack.appUrl, { storage, operation: 'head', objects: [{ name }] })).json()) as PresignResponse).urls[0]!;
    expect((await send(head)).status).toBe(200);
    expect(await storageIdOf(stack.appUrl, BOB)).not.toBe(storage);
  });

  it('a withdrawn object is 404 through its shared URL', async () => {
    const name = fragmentName();
    const bytes = randomBytes(256);
    expect((await send(await presignOne(stack.appUrl, ALICE, 'put', { name, ...putFields(bytes) }), bytes)).status).toBe(200);
    expect((await send(await presignOne(stack.appUrl, ALICE, 'delete', { name }))).status).toBe(204);
    const storage = await storageIdOf(stack.appUrl, ALICE);
    const get = ((await (await shared(stack.appUrl, { storage, operation: 'get', objects: [{ name }] })).json()) as PresignResponse).urls[0]!;
    expect((await send(get)).status).toBe(404);
  });

  it('the storage id needs a signed-in caller, and anonymous requests are limited per address', async () => {
    expect((await fetch(`${stack.appUrl}/api/storage-id`)).status).toBe(401);
    const storage = await storageIdOf(stack.appUrl, ALICE);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await shared(stack.appUrl, { storage, operation: 'head', objects: [{ name: fragmentName() }] })).status);
    expect(statuses).toContain(429);
  });

  it('storage ids survive a restart (the key is kept beside the store data)', async () => {
    const before = await storageIdOf(stack.appUrl, ALICE);
    const temp = await makeTempDir('shared-restart');
    const again = await startStack({ appPort: 0, localS3: { port: 0, dataDir }, distDir: await makeDist(temp.path), tokens: { [ALICE]: 'alice' } });
    try {
      expect(await storageIdOf(again.appUrl, ALICE)).toBe(before);
    } finally {
      await again.close();
      await temp.remove();
    }
  });
});
