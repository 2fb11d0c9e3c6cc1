import { LitElement, css, html } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { sharedStyles } from '../styles/shared.js';

/**
 * Shows an ImageBitmap with pinch-zoom and pan on touch, wheel zoom with a mouse, and +/−/0 and arrow keys.
 * The bitmap is placed on a canvas as is: the page never touches its pixels.
 */
@customElement('ev-image-viewer')
export class ImageViewer extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      .frame {
        position: relative;
        overflow: hidden;
        border-radius: var(--ev-radius);
        border: 1px solid var(--ev-border);
        background: repeating-conic-gradient(light-dark(#e8eef0, #1b2b31) 0% 25%, transparent 0% 50%) 50% / 20px 20px;
        touch-action: none;
        width: 100%;
        max-height: 70vh;
      }
      canvas {
        position: absolute;
        left: 0;
        top: 0;
        transform-origin: 0 0;
        image-rendering: auto;
      }
      .tools {
        margin-top: 8px;
      }
    `,
  ];

  @property({ attribute: false }) bitmap: ImageBitmap | undefined;
  @property({ type: String }) label = 'Image';
  @state() private scale = 1;
  @state() private x = 0;
  @state() private y = 0;
  @query('canvas') private canvas!: HTMLCanvasElement;
  @query('.frame') private frame!: HTMLElement;
  private pointers = new Map<number, { x: number; y: number }>();
  private pinch: { distance: number; scale: number } | undefined;

  protected override updated(changed: Map<string, unknown>) {
    if (changed.has('bitmap') && this.bitmap) {
      this.canvas.width = this.bitmap.width;
      this.canvas.height = this.bitmap.height;
      this.canvas.getContext('2d')?.drawImage(this.bitmap, 0, 0);
      // Fit once the frame has taken the image's proportions (after layout).
      requestAnimationFrame(() => this.fit());
    }
  }

  /** Fits the whole image into the frame. */
  fit() {
    if (!this.bitmap || !this.frame) return;
    const { clientWidth: w, clientHeight: h } = this.frame;
    this.scale = Math.min(w / this.bitmap.width, h / this.bitmap.height, 1) || 1;
    this.x = (w - this.bitmap.width * this.scale) / 2;
    this.y = (h - this.bitmap.height * this.scale) / 2;
  }

  private zoomAt(factor: number, cx: number, cy: number) {
    const next = Math.min(32, Math.max(0.02, this.scale * factor));
    this.x = cx - ((cx - this.x) * next) / this.scale;
    this.y = cy - ((cy - this.y) * next) / this.scale;
    this.scale = next;
  }

  private onWheel(e: WheelEvent) {
    e.preventDefault();
    const rect = this.frame.getBoundingClientRect();
    this.zoomAt(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - rect.left, e.clientY - rect.top);
  }

  private onPointerDown(e: PointerEvent) {
    this.frame.setPointerCapture(e.pointerId);
    this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (this.pointers.size === 2) {
      const [a, b] = [...this.pointers.values()];
      this.pinch = { distance: Math.hypot(a!.x - b!.x, a!.y - b!.y), scale: this.scale };
    }
  }

  private onPointerMove(e: PointerEvent) {
    const last = this.pointers.get(e.pointerId);
    if (!last) return;
    this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (this.pointers.size === 1) {
      this.x += e.clientX - last.x;
      this.y += e.clientY - last.y;
    } else if (this.pinch && this.pointers.size === 2) {
      const [a, b] = [...this.pointers.values()];
      const rect = this.frame.getBoundingClientRect();
      const distance = Math.hypot(a!.x - b!.x, a!.y - b!.y);
      this.zoomAt((this.pinch.scale * distance) / this.pinch.distance / this.scale, (a!.x + b!.x) / 2 - rect.left, (a!.y + b!.y) / 2 - rect.top);
    }
  }

  private onPointerUp(e: PointerEvent) {
    this.pointers.delete(e.pointerId);
    if (this.pointers.size < 2) this.pinch = undefined;
  }

  private onKey(e: KeyboardEvent) {
    const w = this.frame.clientWidth / 2;
    const h = this.frame.clientHeight / 2;
    const moves: Record<string, () => void> = {
      '+': () => this.zoomAt(1.25, w, h),
      '=': () => this.zoomAt(1.25, w, h),
      '-': () => this.zoomAt(0.8, w, h),
      '0': () => this.fit(),
      ArrowLeft: () => (this.x += 40),
      ArrowRight: () => (this.x -= 40),
      ArrowUp: () => (this.y += 40),
      ArrowDown: () => (this.y -= 40),
    };
    const move = moves[e.key];
    if (move) {
      e.preventDefault();
      move();
    }
  }

  override render() {
    return html`
      <div
        class="frame"
        style="aspect-ratio: ${this.bitmap ? `${this.bitmap.width} / ${this.bitmap.height}` : '4 / 3'}"
        tabindex="0"
        role="img"
        aria-label="${this.label}. Use plus and minus to zoom, arrow keys to move, 0 to fit."
        @wheel=${this.onWheel}
        @pointerdown=${this.onPointerDown}
        @pointermove=${this.onPointerMove}
        @pointerup=${this.onPointerUp}
        @pointercancel=${this.onPointerUp}
        @keydown=${this.onKey}
        @dblclick=${() => this.fit()}
      >
        <canvas style="transform: translate(${this.x}px, ${this.y}px) scale(${this.scale})"></canvas>
      </div>
      <div class="row tools">
        <button class="secondary" type="button" aria-label="Zoom in" @click=${() => this.zoomAt(1.25, this.frame.clientWidth / 2, this.frame.clientHeight / 2)}>+</button>
        <button class="secondary" type="button" aria-label="Zoom out" @click=${() => this.zoomAt(0.8, this.frame.clientWidth / 2, this.frame.clientHeight / 2)}>−</button>
        <button class="secondary" type="button" @click=${() => this.fit()}>Fit</button>
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-image-viewer': ImageViewer;
  }
}
