/**
 * Issue #14, "Save the original file": a record's description (its MIME type included) is written by
 * whoever made the record. The download used to be a blob: URL typed from it, so a record typed
 * text/html or image/svg+xml, opened from that link in a tab, rendered as a page in the app's origin
 * with the sender's script and the app's IndexedDB. Now every saved Blob is application/octet-stream:
 * opened in a tab it downloads, and nothing renders.
 */
import { expect, test } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { openSharedThroughUi, protectThroughUi, startTrustStack, type FilePayload, type TrustStack } from './trust-helpers.js';
import { skipIntro } from './app-helpers.js';

const SEQUENCE_KEY = 'Qz7#Wm2!Rk';

const HOSTILE: FilePayload[] = [
  {
    name: 'lab-report.html',
    mimeType: 'text/html',
    buffer: Buffer.from('<!doctype html><title>pwned</title><h1 id="rendered">rendered as a page</h1><script>window.__pwned = 1; indexedDB.databases().then((d) => (window.__dbs = d.length));</script>'),
  },
  {
    name: 'scan.svg',
    mimeType: 'image/svg+xml',
    buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" id="rendered"><script>window.__pwned = 2;</script><text y="20">svg</text></svg>'),
  },
  {
    name: 'data.xhtml',
    mimeType: 'application/xhtml+xml',
    buffer: Buffer.from('<html xmlns="http://www.w3.org/1999/xhtml"><body><p id="rendered">xhtml</p><script>window.__pwned = 3;</script></body></html>'),
  },
];

declare global {
  interface Window {
    __pwned?: number;
    __blobs: { url: string; type: string }[];
  }
}

let stack: TrustStack;
test.describe.configure({ mode: 'serial' });
test.beforeAll(async () => {
  stack = await startTrustStack();
});
test.afterAll(async () => {
  await stack?.close();
});

test.beforeEach(async ({ context }) => {
  await skipIntro(context);
});

test('a record typed as HTML, SVG or XHTML is saved as inert bytes and never renders in the app origin', async ({ page, context }) => {
  // Injected by the harness: notes the type of every Blob the app turns into a URL.
  await page.addInitScript(() => {
    window.__blobs = [];
    const original = URL.createObjectURL.bind(URL);
    URL.createObjectURL = (object: Blob | MediaSource) => {
      const url = original(object);
      window.__blobs.push({ url, type: object instanceof Blob ? object.type : 'media-source' });
      return url;
    };
  });

  for (const file of HOSTILE) {
    const { shareText } = await protectThroughUi(page, stack.appUrl, file, SEQUENCE_KEY);
    await openSharedThroughUi(page, stack.appUrl, shareText, SEQUENCE_KEY);
    const save = page.getByRole('link', { name: 'Save the original file' });
    await expect(save).toBeVisible({ timeout: 60_000 });
    const href = (await save.getAttribute('href'))!;
    expect(href.startsWith(`blob:${stack.appUrl}/`), file.name).toBe(true);

    // The Blob behind the link is typed application/octet-stream, whatever the record says.
    const blobs = await page.evaluate(() => window.__blobs);
    expect(blobs.find((b) => b.url === href)?.type, file.name).toBe('application/octet-stream');

    // Opened in a tab of the app's origin (as a person might, with a middle click), it downloads: nothing renders, nothing runs.
    const tab = await context.newPage();
    const navigation = await tab.goto(href).then(() => 'rendered', (error: Error) => error.message);
    await tab.waitForTimeout(300);
    expect(await tab.locator('#rendered').count(), file.name).toBe(0);
    expect(await tab.evaluate(() => window.__pwned ?? null), file.name).toBeNull();
    expect(navigation, file.name).toContain('Download is starting');
    await tab.close();

    // And saving still gives the exact bytes, under the record's name.
    const [download] = await Promise.all([page.waitForEvent('download'), save.click()]);
    expect(download.suggestedFilename()).toBe(file.name);
    expect((await readFile((await download.path())!)).equals(file.buffer), file.name).toBe(true);
  }
  expect(await page.evaluate(() => window.__pwned ?? null)).toBeNull();
});
