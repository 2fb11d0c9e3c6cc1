import { LitElement, css, html, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import { sharedStyles } from '../styles/shared.js';

interface DetectedBarcode {
  readonly rawValue: string;
}
interface BarcodeDetectorLike {
  detect(source: HTMLVideoElement): Promise<DetectedBarcode[]>;
}
type BarcodeDetectorConstructor = new (options: { formats: string[] }) => BarcodeDetectorLike;

/**
 * Scans a share-text QR code with the camera, using the browser's own BarcodeDetector (the frames
 * never leave the device, and the page does no pixel work). Where the browser has none, it says so.
 *
 * @fires scanned - detail `{ value: string }` with the decoded text; the camera is then stopped.
 */
@customElement('ev-qr-scanner')
export class QrScanner extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      video {
        width: 100%;
        max-height: 50vh;
        border-radius: var(--ev-radius);
        background: #000;
      }
    `,
  ];

  @state() private active = false;
  @state() private message = '';
  @query('video') private video!: HTMLVideoElement;
  private stream: MediaStream | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  private get detectorClass(): BarcodeDetectorConstructor | undefined {
    return (globalThis as { BarcodeDetector?: BarcodeDetectorConstructor }).BarcodeDetector;
  }

  private async start() {
    const Detector = this.detectorClass;
    if (!Detector || !navigator.mediaDevices?.getUserMedia) {
      this.message = 'This browser cannot scan QR codes. Paste the share text instead.';
      return;
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    } catch {
      this.message = 'The camera is not available or permission was refused. Paste the share text instead.';
      return;
    }
    this.active = true;
    this.message = 'Point the camera at the QR code.';
    await this.updateComplete;
    this.video.srcObject = this.stream;
    await this.video.play().catch(() => undefined);
    const detector = new Detector({ formats: ['qr_code'] });
    const tick = async () => {
      if (!this.active) return;
      const found = await detector.detect(this.video).catch(() => []);
      const value = found.find((b) => b.rawValue.toLowerCase().startsWith('ehrv1:'))?.rawValue;
      if (value) {
        this.stop();
        this.dispatchEvent(new CustomEvent('scanned', { detail: { value }, bubbles: true, composed: true }));
        return;
      }
      this.timer = setTimeout(() => void tick(), 250);
    };
    void tick();
  }

  stop() {
    this.active = false;
    clearTimeout(this.timer);
    this.stream?.getTracks().forEach((t) => t.stop());
    this.stream = undefined;
    this.message = '';
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.stop();
  }

  override render() {
    return html`
      ${this.active
        ? html`<video muted playsinline aria-label="Camera view"></video><button type="button" class="secondary" @click=${() => this.stop()}>Stop camera</button>`
        : html`<button type="button" class="secondary" @click=${() => void this.start()}>Scan QR code</button>`}
      ${this.message ? html`<p class="muted" role="status">${this.message}</p>` : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-qr-scanner': QrScanner;
  }
}
