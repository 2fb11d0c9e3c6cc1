import { LitElement, css, html, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import { keepFocusInside } from '../controllers/focus-trap.js';
import { sharedStyles } from '../styles/shared.js';
import './install-button.js';

const STEPS = [
  {
    title: 'Your records are locked on this phone first',
    body: html`<p>EHR Vault encrypts scans, photos and files <strong>on this device</strong>, before anything leaves it. The cloud only ever stores scrambled fragments.</p>
      <p>The keys that unlock your records stay in this browser. Save an encrypted backup (Settings) so a lost phone does not mean lost records.</p>`,
  },
  {
    title: 'Two secrets open a record',
    body: html`<ol>
        <li><strong>The share text</strong> (or its QR code): made for each record; it says where the record is and holds its key.</li>
        <li><strong>The sequence key</strong>: at least 8 different characters that <em>you</em> choose or generate before protecting. It decides how the record is cut into fragments.</li>
      </ol>
      <p>Remember your sequence key or write it down: whoever opens the record needs both secrets.</p>`,
  },
  {
    title: 'Sharing with a doctor',
    body: html`<p>Send the share text or show its QR code. Tell the sequence key <strong>another way</strong> (say it, or a separate message): a single screenshot or message never holds both secrets.</p>
      <p>The doctor opens the record under <strong>Open</strong>, with both.</p>`,
  },
];

/**
 * The first-run introduction: what is protected where, the two secrets, how sharing works. Skippable,
 * and reachable again from Help. A native modal `<dialog>`.
 *
 * @fires intro-closed - when the introduction is closed (finished or skipped).
 */
@customElement('ev-intro-dialog')
export class IntroDialog extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      dialog {
        border: 1px solid var(--ev-border);
        border-radius: 16px;
        background: var(--ev-surface);
        color: var(--ev-ink);
        width: min(520px, calc(100vw - 24px));
        max-height: calc(100dvh - 24px);
        padding: 20px;
      }
      dialog::backdrop {
        background: rgb(0 0 0 / 55%);
      }
      .step {
        font-size: 0.9rem;
        color: var(--ev-muted);
        margin: 0 0 4px;
      }
      ol {
        padding-left: 20px;
      }
      li {
        margin-bottom: 8px;
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 8px;
        justify-content: space-between;
        margin-top: 16px;
      }
      .actions .forward {
        display: flex;
        gap: 8px;
        margin-left: auto;
      }
    `,
  ];

  @state() private step = 0;
  @query('dialog') private dialog!: HTMLDialogElement;

  async show(): Promise<void> {
    this.step = 0;
    await this.updateComplete;
    if (!this.dialog.open) this.dialog.showModal();
  }

  private close() {
    this.dialog.close();
  }

  override render() {
    const s = STEPS[this.step]!;
    const last = this.step === STEPS.length - 1;
    return html`<dialog @keydown=${keepFocusInside} aria-labelledby="intro-title" @close=${() => this.dispatchEvent(new CustomEvent('intro-closed', { bubbles: true, composed: true }))}>
      <p class="step">Step ${this.step + 1} of ${STEPS.length}</p>
      <h2 id="intro-title">${s.title}</h2>
      ${s.body}
      ${last ? html`<ev-install-button></ev-install-button>` : nothing}
      <div class="actions">
        <button type="button" class="secondary" @click=${this.close}>${last ? 'Close' : 'Skip introduction'}</button>
        <div class="forward">
          ${this.step > 0 ? html`<button type="button" class="secondary" @click=${() => this.step--}>Back</button>` : nothing}
          ${last ? html`<button type="button" @click=${this.close}>Get started</button>` : html`<button type="button" autofocus @click=${() => this.step++}>Next</button>`}
        </div>
      </div>
    </dialog>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-intro-dialog': IntroDialog;
  }
}
