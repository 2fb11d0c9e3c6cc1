/**
 * Durability of the on-device store in the real app: a full disk mid-protect leaves nothing behind and
 * says so; a tab closed while a record is being stored leaves it either complete (every fragment and its
 * outbox entry) or absent; two tabs protecting at once upload every fragment exactly once. (The outbox
 * runner's own Web-Lock handover between tabs is covered by cloud.spec.ts; this drives the whole app.)
 */
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { pseudoRandomBytes } from '../integration/stack-helpers.js';
import { dumpIndexedDb, pickFiles, protectThroughUi, recordRequests, startTrustStack, vaultCounts, type FilePayload, type TrustStack, type VaultDump } from './trust-helpers.js';
import { newAppContext, skipIntro } from './app-helpers.js';

const SEQUENCE_KEY = 'Dq8!Wm3#Rv';

let stack: TrustStack;
test.describe.configure({ mode: 'serial' });
test.beforeAll(async () => {
  stack = await startTrustStack();
});
// The first-run introduction is tested in ux.spec.ts.
test.beforeEach(async ({ context }) => {
  await skipIntro(context);
});
test.afterAll(async () => {
  await stack?.close();
});

declare global {
  interface Window {
    /** Fragment writes fail with QuotaExceededError from this (1-based) write on; 0 = never. */
    __quotaAfter: number;
    __fragmentWrites: number;
  }
}

function file(name: string, size: number, seed: number): FilePayload {
  return { name, mimeType: 'application/pdf', buffer: Buffer.from(pseudoRandomBytes(size, seed)) };
}

async function appReady(page: Page): Promise<void> {
  await page.goto(`${stack.appUrl}/#/protect`);
  await expect(page.getByRole('button', { name: 'Choose files' })).toBeVisible();
}

/** The store is all-or-nothing per record: every record has all its fragments, each queued or uploaded. */
function expectConsistent(dump: VaultDump): { records: number; fragments: number } {
  const parse = (store: string) => dump.items.filter((i) => i.store === store).map((i) => JSON.parse(i.json) as Record<string, unknown>);
  const records = parse('records');
  const fragments = parse('fragments');
  const outbox = parse('outbox');
  for (const record of records) {
    const mine = fragments.filter((f) => f.recordId === record.recordId);
    expect(mine.map((f) => f.position).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: Number(record.fragmentCount) + Number(record.parityCount ?? 0) }, (_, i) => i));
    for (const fragment of mine) {
      expect(fragment.blob, `fragment ${String(fragment.position)} has its bytes`).not.toBeNull();
      const queued = outbox.some((o) => o.recordId === record.recordId && o.position === fragment.position && o.op === 'put');
      expect(queued || fragment.uploadedAt !== null, `fragment ${String(fragment.position)} is queued or uploaded`).toBe(true);
    }
  }
  // Nothing belongs to no record.
  const ids = new Set(records.map((r) => r.recordId));
  expect(fragments.filter((f) => !ids.has(f.recordId))).toEqual([]);
  expect(outbox.filter((o) => o.op === 'put' && !ids.has(o.recordId))).toEqual([]);
  return { records: records.length, fragments: fragments.length };
}

test('out of storage mid-protect: the app says so, and nothing of the record is kept', async ({ page }) => {
  await page.addInitScript(() => {
    window.__quotaAfter = 0;
    window.__fragmentWrites = 0;
    // A full disk, as Chromium reports it when a put does not fit: a QuotaExceededError DOMException.
    for (const method of ['add', 'put'] as const) {
      const original = IDBObjectStore.prototype[method];
      IDBObjectStore.prototype[method] = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['add']>) {
        if (this.name === 'fragments') {
          window.__fragmentWrites += 1;
          if (window.__quotaAfter > 0 && window.__fragmentWrites >= window.__quotaAfter) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        }
        return original.apply(this, args);
      };
    }
  });
  await appReady(page);
  const alert = page.getByRole('alert');

  // 1. The estimate already says it cannot fit: refused before writing.
  await page.evaluate(() => {
    Object.defineProperty(navigator.storage, 'estimate', { configurable: true, value: async () => ({ usage: 50_000_000, quota: 50_100_000 }) });
  });
  await pickFiles(page, stack.appUrl, file('big-scan.pdf', 300_000, 1), SEQUENCE_KEY);
  await page.getByRole('button', { name: /^Protect/ }).click();
  await expect(alert).toContainText('out of storage', { timeout: 30_000 });
  await expect(alert).toContainText('Nothing was saved.');
  expect(await vaultCounts(page)).toEqual({ records: 0, fragments: 0, outbox: 0 });

  // 2. The estimate says yes, but the third fragment's write hits the quota inside the transaction:
  //    the catalog entry and the two fragments written before it are rolled back with it.
  await page.reload();
  await page.evaluate(() => (window.__quotaAfter = 3));
  await pickFiles(page, stack.appUrl, file('scan-2.pdf', 300_000, 2), SEQUENCE_KEY);
  await page.getByRole('button', { name: /^Protect/ }).click();
  await expect(alert).toContainText('out of storage', { timeout: 30_000 });
  await expect(alert).toContainText('Nothing was saved.');
  expect(await page.evaluate(() => window.__fragmentWrites)).toBe(3);
  expect(await vaultCounts(page)).toEqual({ records: 0, fragments: 0, outbox: 0 });
  expect(await stack.bucket.list('')).toEqual([]);

  // 3. Space freed: the same file is protected, stored whole and uploaded.
  await page.evaluate(() => (window.__quotaAfter = 0));
  await page.getByRole('button', { name: /^Protect/ }).click();
  await expect(page.locator('section[data-record-id] [data-sync-state]')).toHaveAttribute('data-sync-state', 'synced', { timeout: 60_000 });
  const counts = expectConsistent(await dumpIndexedDb(page));
  // n data objects and the app's 2 parity objects (APP_PARITY, issue 17).
  expect(counts).toEqual({ records: 1, fragments: SEQUENCE_KEY.length + 2 });
  expect(await stack.bucket.list('')).toHaveLength(SEQUENCE_KEY.length + 2);
});

test('a tab closed while a record is being stored leaves it complete or absent, never half', async ({ browser }) => {
  const outcomes: string[] = [];
  // Close at three moments, a fresh profile each time: as soon as Protect is pressed (encrypting); inside
  // the write, with the transaction kept busy from the third fragment on (so it cannot have committed
  // when the tab dies); and as the last fragment is written (either outcome is allowed).
  for (const moment of ['protect-pressed', 'mid-transaction', 'last-fragment-write'] as const) {
    const context: BrowserContext = await newAppContext(browser);
    const page = await context.newPage();
    let signalClose!: () => void;
    const closeNow = new Promise<void>((resolve) => (signalClose = resolve));
    await page.exposeFunction('__fragmentWrite', (index: number) => {
      if ((moment === 'mid-transaction' && index === 3) || (moment === 'last-fragment-write' && index === SEQUENCE_KEY.length + 2)) signalClose();
    });
    await page.addInitScript((hold: boolean) => {
      let writes = 0;
      const original = IDBObjectStore.prototype.add;
      IDBObjectStore.prototype.add = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['add']>) {
        if (this.name === 'fragments') {
          void (window as unknown as { __fragmentWrite(i: number): Promise<void> }).__fragmentWrite(++writes);
          if (hold && writes === 3) {
            // A slow disk: keep the transaction busy (one request after another), so it cannot commit
            // before the tab is gone.
            const busy = (store: IDBObjectStore): void => {
              store.count().onsuccess = () => busy(store);
            };
            busy(this);
          }
        }
        return original.apply(this, args);
      };
    }, moment === 'mid-transaction');
    await appReady(page);
    // Uploads are held back so that what is on the device is what the store wrote, not what the runner left.
    await context.route((url) => url.origin === new URL(stack.s3Url).origin, (route) => route.abort('internetdisconnected'));
    await pickFiles(page, stack.appUrl, file(`closing-${moment}.pdf`, 4_000_000, 3), SEQUENCE_KEY);
    await page.getByRole('button', { name: /^Protect/ }).click();
    if (moment === 'protect-pressed') signalClose();
    await closeNow;
    await page.close({ runBeforeUnload: false });

    const again = await context.newPage();
    await appReady(again);
    const counts = expectConsistent(await dumpIndexedDb(again));
    expect(moment === 'mid-transaction' ? [0] : [0, 1]).toContain(counts.records);
    outcomes.push(`${moment}: ${counts.records === 1 ? 'complete' : 'absent'}`);
    await context.close();
  }
  console.log(`tab closed mid-store: ${outcomes.join(', ')}`);
});

test('two tabs protecting at the same time: every fragment is uploaded exactly once', async ({ context }) => {
  const [first, second] = [await context.newPage(), await context.newPage()];
  const recorder = recordRequests(context, 'two tabs');
  await appReady(first);
  await appReady(second);
  const [a, b] = await Promise.all([
    protectThroughUi(first, stack.appUrl, file('tab-one.pdf', 600_000, 4), SEQUENCE_KEY),
    protectThroughUi(second, stack.appUrl, file('tab-two.pdf', 600_000, 5), 'Hz2@Tn7$Kc9'),
  ]);
  expect(a.recordId).not.toBe(b.recordId);
  const puts = (await recorder.settle()).filter((r) => r.method === 'PUT').map((r) => new URL(r.url).pathname.replace(/^\/ehr-vault\//, ''));
  const perObject = new Map<string, number>();
  for (const key of puts) perObject.set(key, (perObject.get(key) ?? 0) + 1);
  expect([...perObject.values()].filter((n) => n !== 1)).toEqual([]);
  const mine = (await stack.bucket.list('')).filter((key) => perObject.has(key));
  // n + 2 objects each (APP_PARITY, issue 17).
  expect(mine).toHaveLength(SEQUENCE_KEY.length + 'Hz2@Tn7$Kc9'.length + 4);
  expect(puts).toHaveLength(mine.length);
  // Both tabs see the same, complete catalog.
  for (const tab of [first, second]) {
    await tab.goto(`${stack.appUrl}/#/records`);
    await expect(tab.locator('li[data-record-id]')).toHaveCount(2);
    await expect(tab.locator('li[data-record-id] [data-sync-state="synced"]')).toHaveCount(2);
  }
  expectConsistent(await dumpIndexedDb(first));
  console.log(`two tabs: ${puts.length} PUTs for ${perObject.size} objects`);
});
