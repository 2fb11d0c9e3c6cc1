/**
 * The `test` of the browser specs: Playwright's, with one option, `engineGaps`. The `safari` project sets it
 * to 'safari-16.4', which imposes Safari 16.4's missing APIs on Chromium in every page and Worker of every
 * context: the default one and those a test opens itself (engine-gaps.ts).
 */
import { test as base } from '@playwright/test';
import { installEngineGaps } from './engine-gaps.js';

export { chromium, expect } from '@playwright/test';
export type { Browser, BrowserContext, Page, Route } from '@playwright/test';

export type EngineGaps = 'none' | 'safari-16.4';

export const test = base.extend<object, { engineGaps: EngineGaps }>({
  engineGaps: ['none', { option: true, scope: 'worker' }],
  browser: async ({ browser, engineGaps }, use) => {
    if (engineGaps !== 'none') {
      const newContext = browser.newContext.bind(browser);
      browser.newContext = async (...args) => {
        const context = await newContext(...args);
        await installEngineGaps(context);
        return context;
      };
    }
    await use(browser);
  },
  context: async ({ context, engineGaps }, use) => {
    if (engineGaps !== 'none') await installEngineGaps(context);
    await use(context);
  },
});
