/** Helpers for the app specs (not a test file). */
import type { Browser, BrowserContext, BrowserContextOptions } from '@playwright/test';

/** The first-run introduction is the subject of its own test; elsewhere it is marked as seen before load. */
export async function skipIntro(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => localStorage.setItem('ehrv.intro-seen', '1'));
}

/** A fresh context (another device) that has already seen the introduction. */
export async function newAppContext(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  await skipIntro(context);
  return context;
}
