/**
 * Scanning a share-text QR code with the camera, in a Chromium whose camera is a file: a Y4M video of the
 * QR code made here. Without BarcodeDetector (the `safari` project, and Chromium on Linux) the app decodes
 * frames with jsQR in a Worker; with it, natively. Either way the share text lands in the open form.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import QRCode from 'qrcode';
import { chromiumLaunch } from '../../playwright.config.js';
import { startAppStack, type AppStack } from './app-stack.js';
import { installEngineGaps } from './engine-gaps.js';
import { chromium, expect, test } from './test.js';
import { newAppContext } from './app-helpers.js';

const SHARE = 'ehrv1:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8w';

/** A few frames of 640×480 4:2:0 video showing `text` as a QR code, dark on light, 6 px per module. */
function qrVideo(text: string): Buffer {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const size = qr.modules.size;
  const [w, h, module] = [640, 480, 6];
  const left = Math.floor((w - size * module) / 2);
  const top = Math.floor((h - size * module) / 2);
  const y = Buffer.alloc(w * h, 235);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      if (!qr.modules.get(r, c)) continue;
      for (let dy = 0; dy < module; dy++) y.fill(16, (top + r * module + dy) * w + left + c * module, (top + r * module + dy) * w + left + (c + 1) * module);
    }
  }
  const chroma = Buffer.alloc((w / 2) * (h / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, chroma]);
  return Buffer.concat([Buffer.from(`YUV4MPEG2 W${w} H${h} F10:1 Ip A1:1 C420jpeg\n`), frame, frame, frame, frame]);
}

let stack: AppStack;
let dir: string;
test.beforeAll(async () => {
  stack = await startAppStack();
  dir = await mkdtemp(join(tmpdir(), 'ehrv-qr-'));
});
test.afterAll(async () => {
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a share-text QR code shown to the camera fills the open form', async ({ engineGaps }) => {
  const video = join(dir, 'qr.y4m');
  await writeFile(video, qrVideo(SHARE));
  const browser = await chromium.launch({
    ...chromiumLaunch,
    args: [...chromiumLaunch.args, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`],
  });
  try {
    const context = await newAppContext(browser, { permissions: ['camera'], serviceWorkers: 'block' });
    if (engineGaps !== 'none') await installEngineGaps(context);
    const page = await context.newPage();
    await page.goto(`${stack.appUrl}/#/open`);
    await page.getByRole('button', { name: 'Scan QR code' }).click();
    await expect(page.locator('#share')).toHaveValue(SHARE, { timeout: 30_000 });
    const reader = await page.locator('ev-qr-scanner').getAttribute('data-reader');
    // Safari has no BarcodeDetector: the Worker decodes. Chromium on Linux has none either.
    if (engineGaps !== 'none') expect(reader).toBe('worker');
    else expect(reader).toBe(await page.evaluate(() => ('BarcodeDetector' in globalThis ? 'native' : 'worker')));
    // The camera is stopped once the code is read.
    await expect(page.locator('ev-qr-scanner video')).toHaveCount(0);
  } finally {
    await browser.close();
  }
});
