import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type { MyKeyCard } from '../../services/key-cards.js';
import { getVault } from '../../services/vault.js';
import { describeError, type ErrorView } from '../controllers/describe-error.js';
import { sendLink } from '../controllers/send-link.js';
import { sharedStyles } from '../styles/shared.js';
import './qr-code.js';

/**
 * "My key card" (issue #13): for a doctor or anyone who receives records. This device makes a P-256 key
 * pair whose private key never leaves the browser; the card (public key + name) is shown as a QR code and a
 * link, with a fingerprint to read aloud to the patient. Nothing here is secret.
 *
 * @fires key-card-made - when a card was made; detail: { fingerprint }.
 */
@customElement('ev-my-key-card')
export class MyKeyCardView extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      .fingerprint {
        font-family: ui-monospace, monospace;
        /* One line on a 360 px phone: 24 monospace characters read aloud group by group. */
        font-size: clamp(1rem, 4.6vw, 1.25rem);
        letter-spacing: 0.03em;
        white-space: nowrap;
        margin: 4px 0 12px;
      }
      code {
        display: block;
        word-break: break-all;
        font-size: 0.8rem;
        padding: 8px 10px;
        border-radius: var(--ev-radius);
        background: light-dark(#eef5f7, #0d1a1f);
      }
      label {
        display: block;
        margin: 12px 0 4px;
      }
    `,
  ];

  @state() private card: MyKeyCard | undefined;
  @state() private loaded = false;
  @state() private name = '';
  @state() private busy = false;
  @state() private status = '';
  @state() private error: ErrorView | undefined;

  override connectedCallback() {
    super.connectedCallback();
    void this.load();
  }

  private async load() {
    this.card = await (await getVault()).myKeyCard();
    this.loaded = true;
  }

  private async make(e: Event) {
    e.preventDefault();
    this.busy = true;
    this.error = undefined;
    try {
      this.card = await (await getVault()).createKeyCard(this.name);
      this.dispatchEvent(new CustomEvent('key-card-made', { detail: { fingerprint: this.card.fingerprint }, bubbles: true, composed: true }));
    } catch (error) {
      this.error = describeError(error);
    } finally {
      this.busy = false;
    }
  }

  private async send() {
    const card = this.card;
    if (!card) return;
    const data = { title: `Key card of ${card.name}`, text: 'Share records with me through this key card: they will open only on my device.', url: card.link };
    const said = await sendLink(data, 'Key card link copied.');
    if (said) this.status = said;
  }

  override render() {
    if (!this.loaded) return nothing;
    const card = this.card;
    if (!card) {
      return html`<form @submit=${this.make}>
        <p class="muted">For doctors and others who receive records. A key card lets a patient share a record to <strong>this device only</strong>: a link made for your card opens nowhere else. Its private key is made here and never leaves this browser.</p>
        <label for="card-name">Your name, as patients know you</label>
        <input id="card-name" .value=${this.name} @input=${(e: Event) => (this.name = (e.target as HTMLInputElement).value)} maxlength="64" autocomplete="name" placeholder="Dr Ana Ruiz, Cardiology" />
        <div class="row" style="margin-top:8px"><button type="submit" ?disabled=${this.busy || !this.name.trim()}>Make my key card</button></div>
        ${this.error ? html`<p role="alert" data-error-code=${this.error.code}><strong>${this.error.title}</strong> ${this.error.hint}</p>` : nothing}
      </form>`;
    }
    return html`
      <p>Key card of <strong data-card-name>${card.name}</strong></p>
      <p class="muted" id="fingerprint-label">Fingerprint — the patient’s screen shows the same when they share to you:</p>
      <p class="fingerprint" data-fingerprint>${card.fingerprint}</p>
      <ev-qr-code .value=${card.link} label="QR code of the key card of ${card.name}"></ev-qr-code>
      <p class="muted">Patients scan this code in their share sheet, or you send them the link. Links made for this card open only on this device, in this browser.</p>
      <div class="row">
        <button type="button" @click=${this.send}>Send my key card…</button>
        ${this.status ? html`<span role="status">${this.status}</span>` : nothing}
      </div>
      <code data-card-link>${card.link}</code>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-my-key-card': MyKeyCardView;
  }
}
