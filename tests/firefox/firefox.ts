/**
 * Stock Firefox (Debian's firefox-esr) driven by puppeteer-core over WebDriver BiDi: Playwright cannot
 * download its own Firefox here, and its patched Juggler build is not what people run. Each launch is a
 * fresh profile (a new temporary directory), the way another device would be.
 */
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer-core';

export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

export function firefoxAvailable(): boolean {
  return existsSync(FIREFOX_PATH);
}

/** A fresh profile each time, unless `userDataDir` names one (the bench keeps a profile on disk). */
export async function launchFirefox(options: { userDataDir?: string } = {}): Promise<Browser> {
  if (!firefoxAvailable()) throw new Error(`Firefox is missing at ${FIREFOX_PATH}: install Debian's firefox-esr (.ci/run does) or set FIREFOX_PATH.`);
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_PATH,
    headless: true,
    protocol: 'webDriverBiDi',
    // A phone-sized window; the app's own layout decides the rest.
    defaultViewport: { width: 412, height: 915 },
    ...options,
  });
}

/** The first element matching `selector` (CSS, through shadow roots) whose text matches `text`, if given. */
export async function deep(page: Page, selector: string, text?: RegExp, timeoutMs = 60_000): Promise<ElementHandle<Element>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const handle = await page.evaluateHandle(
      (sel, source, flags) => {
        const pattern = source === null ? null : new RegExp(source, flags);
        const walk = (root: Document | ShadowRoot): Element | null => {
          for (const el of root.querySelectorAll(sel)) if (!pattern || pattern.test((el.textContent ?? '').trim())) return el;
          for (const host of root.querySelectorAll('*')) {
            if (host.shadowRoot) {
              const found = walk(host.shadowRoot);
              if (found) return found;
            }
          }
          return null;
        };
        return walk(document);
      },
      selector,
      text ? text.source : null,
      text ? text.flags : '',
    );
    const element = handle.asElement() as ElementHandle<Element> | null;
    if (element) return element;
    await handle.dispose();
    if (Date.now() > deadline) throw new Error(`No element ${selector}${text ? ` with text ${text}` : ''} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Sets a text field's value the way typing does (an `input` event), as Playwright's fill. */
export async function fill(page: Page, selector: string, value: string): Promise<void> {
  const field = await deep(page, selector);
  await field.evaluate((el, v) => {
    (el as HTMLInputElement).value = v;
    el.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
  }, value);
}

/** Waits until `check` (run in the page) returns a truthy value, and returns it. */
export async function waitFor<T>(page: Page, check: () => T | Promise<T>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await page.evaluate(check);
    if (value) return value as T;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${check.toString().slice(0, 120)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Clicks `element` the way Playwright does: only once it is enabled, has kept its place for a moment and is
 * what a tap at its centre would hit (puppeteer clicks at coordinates, so a notice or re-render that moves
 * the page in between would otherwise send the click elsewhere).
 */
export async function click(element: ElementHandle<Element>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await element.evaluate(async (el) => {
      const box = () => JSON.stringify(el.getBoundingClientRect());
      el.scrollIntoView({ block: 'center' });
      const before = box();
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      if (box() !== before || (el as HTMLButtonElement).disabled) return false;
      const r = el.getBoundingClientRect();
      const root = el.getRootNode() as Document | ShadowRoot;
      const hit = root.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return hit !== null && (hit === el || el.contains(hit));
    });
    if (ready) return element.click();
    if (Date.now() > deadline) throw new Error(`The element stayed covered, moving or disabled for ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Clicks the element `find` returns until `started` (run in the page) is true: a flow's start button. Twice
 * in the full Firefox suite (CI, 1 in ~10 runs) a click on Protect or Open left the view exactly as it was —
 * no progress panel, no error — for the whole 240 s wait, though the same flow alone never did in 30 runs.
 * The click is sent again (at most `attempts` times) only while nothing has started, so a flow never runs
 * twice; each repeat is printed, so a lost click shows in the log rather than as a flow that "stalled".
 */
export async function clickToStart(page: Page, find: () => Promise<ElementHandle<Element>>, started: () => boolean, o: { waitMs?: number; attempts?: number } = {}): Promise<void> {
  const waitMs = o.waitMs ?? 5_000;
  const attempts = o.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    await click(await find());
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      if (await page.evaluate(started)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (attempt >= attempts) return; // the caller's own wait reports what the page shows
    process.stderr.write(`firefox: a click had no visible effect after ${waitMs} ms (attempt ${attempt}); clicking again\n`);
  }
}
