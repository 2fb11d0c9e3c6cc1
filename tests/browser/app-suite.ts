/** The frame of a spec that drives the real app (not a test file). */
import { test } from './test.js';
import { startAppStack, type AppStack } from './app-stack.js';
import { skipIntro } from './app-helpers.js';

/**
 * One real stack for the spec file (its tests run in order, sharing it), closed after the last test, and
 * the introduction marked as seen in every test's context. The stack's fields are there from beforeAll on.
 */
export function useAppStack(): AppStack {
  const stack = {} as { -readonly [K in keyof AppStack]: AppStack[K] };
  test.describe.configure({ mode: 'serial' });
  test.beforeAll(async () => {
    Object.assign(stack, await startAppStack());
  });
  test.afterAll(async () => {
    await stack.close?.();
  });
  test.beforeEach(async ({ context }) => {
    await skipIntro(context);
  });
  return stack;
}
