import { Workbox } from 'workbox-window';

export interface ServiceWorkerCallbacks {
  /** The app is cached and works offline from now on (first install only). */
  readonly onOfflineReady: () => void;
  /** A new version is waiting; calling `apply` activates it and reloads. */
  readonly onUpdateReady: (apply: () => void) => void;
}

/**
 * Registers the service worker built by vite-plugin-pwa. Updates wait for the person's consent: a
 * reload in the middle of protecting a record would cancel it.
 */
export function registerServiceWorker(callbacks: ServiceWorkerCallbacks): void {
  if (import.meta.env.DEV || !('serviceWorker' in navigator)) return;
  const wb = new Workbox(`${import.meta.env.BASE_URL}sw.js`, { scope: import.meta.env.BASE_URL });
  wb.addEventListener('activated', (event) => {
    if (!event.isUpdate) callbacks.onOfflineReady();
  });
  wb.addEventListener('waiting', () => {
    callbacks.onUpdateReady(() => {
      wb.addEventListener('controlling', () => location.reload());
      wb.messageSkipWaiting();
    });
  });
  void wb.register();
}
