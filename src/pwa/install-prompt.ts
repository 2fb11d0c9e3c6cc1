/**
 * The browser's install offer (`beforeinstallprompt`, Chromium) kept from page load on, so an Install
 * button can use it whenever it appears. Elsewhere (Safari, Firefox) the app explains Add to Home Screen.
 */
interface InstallPromptEvent extends Event {
  prompt(): Promise<void>;
  readonly userChoice: Promise<{ outcome: 'accepted' | 'dismissed' }>;
}

let deferred: InstallPromptEvent | undefined;
let installed = typeof matchMedia === 'function' && matchMedia('(display-mode: standalone)').matches;
const listeners = new Set<() => void>();
const notify = () => listeners.forEach((l) => l());

if (typeof window !== 'undefined') {
  addEventListener('beforeinstallprompt', (event) => {
    event.preventDefault();
    deferred = event as InstallPromptEvent;
    notify();
  });
  addEventListener('appinstalled', () => {
    deferred = undefined;
    installed = true;
    notify();
  });
}

export function canPromptInstall(): boolean {
  return deferred !== undefined;
}

export function isInstalled(): boolean {
  return installed;
}

/** Shows the browser's install dialog; resolves to whether the app was installed. */
export async function promptInstall(): Promise<boolean> {
  const event = deferred;
  if (!event) return false;
  deferred = undefined;
  await event.prompt();
  const accepted = (await event.userChoice).outcome === 'accepted';
  notify();
  return accepted;
}

export function onInstallChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
