import { LitElement, css, html, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import { createQrReader, type QrReader } from '../../services/qr-reader.js';
import { sharedStyles } from '../styles/shared.js';

/**
 * Scans a share-text QR code with the camera: with the browser's own BarcodeDetector where there is one,
 * elsewhere (Safari, Firefox) with jsQR in a Worker (services/qr-reader.ts). Frames never leave the device.
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
  private reader: QrReader | undefined;

  private async start() {
    if (!navigator.mediaDevices?.getUserMedia) {
      this.message = 'This browser cannot use the camera here. Paste the share text instead.';
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
    const reader = await createQrReader();
    this.reader = reader;
    this.dataset.reader = reader.kind;
    const tick = async () => {
      if (!this.active || this.reader !== reader) return;
      const found = await reader.read(this.video).catch(() => [] as string[]);
      if (!this.active || this.reader !== reader) return;
      const value = found.find((text) => text.toLowerCase().startsWith('ehrv1:'));
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
    this.reader?.close();
    this.reader = undefined;
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
