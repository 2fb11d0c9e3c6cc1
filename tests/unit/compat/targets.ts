/**
 * The oldest browser versions the app supports (README, "Browsers"). Chrome and Samsung Internet of the last
 * two years and more (Chrome 120: Dec 2023, the last without 'readwrite-unsafe'; Samsung Internet 23: Oct
 * 2023), Firefox ESR 128 and later, Safari on iPhone, iPad and Mac from 16.4 (OffscreenCanvas, Compression
 * Streams and module Workers all arrived in 16.4).
 */
export const SUPPORTED = {
  chrome: '120',
  chrome_android: '120',
  firefox: '128',
  firefox_android: '128',
  safari: '16.4',
  safari_ios: '16.4',
  samsunginternet_android: '23.0',
} as const;

export type BrowserName = keyof typeof SUPPORTED;
