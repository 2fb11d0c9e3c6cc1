/**
 * Test-only worker that takes every message and never answers: an engine worker the browser has stopped
 * running (the engine client's watchdog must end the call).
 */
self.addEventListener('message', () => {});
