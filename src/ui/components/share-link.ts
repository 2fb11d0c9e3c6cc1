import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { KeyCard } from '../../services/key-cards.js';
import { getVault } from '../../services/vault.js';
import { describeError, type ErrorView } from '../controllers/describe-error.js';
import { takeArrivedKeyCard } from '../controllers/arrived-key-card.js';
import { sendLink } from '../controllers/send-link.js';
import { sharedStyles } from '../styles/shared.js';
import './qr-scanner.js';
import './secret-text.js';

/**
 * Makes a share link for a record (issue #13): one link that opens in any browser, with another account or
 * none, read-only — or one for a named person's key card, which opens only on the device holding that card
 * (the record key is wrapped to it, FORMAT.md §11.3). The record key travels after `#` (never sent to a
 * server); the sequence key never does. "Send…" uses the system share sheet where there is one, and copies
 * the link elsewhere.
 *
 * @fires link-made - when the link is ready; detail: { link, toCard: name of the card's holder or null }.
 */
@customElement('ev-share-link')
export class ShareLink extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      textarea {
        width: 100%;
        min-height: 72px;
        box-sizing: border-box;
        font-family: ui-monospace, monospace;
        font-size: 0.85rem;
      }
      .fingerprint {
        font-family: ui-monospace, monospace;
        font-size: 1.05rem;
        letter-spacing: 0.04em;
        white-space: nowrap;
      }
      .card-check {
        border-left: 4px solid var(--ev-accent, #1b6b7a);
        padding: 8px 12px;
        margin-block: 8px;
        overflow-wrap: anywhere;
      }
    `,
  ];

  @property({ type: String }) recordId = '';
  @state() private link = '';
  @state() private busy = false;
  @state() private sent = '';
  @state() private error: ErrorView | undefined;
  /** The "to a key card" form is open. */
  @state() private toCard = false;
  @state() private cardText = '';
  @state() private card: KeyCard | undefined;
  @state() private cardError: ErrorView | undefined;
  /** Who the made link is for, when it was made for a key card. */
  @state() private madeFor: KeyCard | undefined;

  override connectedCallback() {
    super.connectedCallback();
    // A doctor's card link opened on this device waits here, so the patient only picks the record.
    const arrived = takeArrivedKeyCard();
    if (arrived) {
      this.toCard = true;
      void this.readCard(arrived);
    }
  }

  private async make() {
    await this.run(async () => (await getVault()).shareLink(this.recordId), undefined);
  }

  private async makeForCard() {
    const card = this.card;
    if (!card) return;
    await this.run(async () => (await getVault()).shareLinkToCard(this.recordId, card), card);
  }

  private async run(makeLink: () => Promise<string>, card: KeyCard | undefined) {
    this.busy = true;
    this.error = undefined;
    try {
      this.link = await makeLink();
      this.madeFor = card;
      this.dispatchEvent(new CustomEvent('link-made', { detail: { link: this.link, toCard: card?.name ?? null }, bubbles: true, composed: true }));
    } catch (error) {
      this.error = describeError(error);
    } finally {
      this.busy = false;
    }
  }

  private async readCard(text: string) {
    this.cardText = text;
    this.card = undefined;
    this.cardError = undefined;
    if (!text.trim()) return;
    try {
      this.card = await (await getVault()).readKeyCard(text);
    } catch (error) {
      this.cardError = describeError(error);
    }
  }

  private async send() {
    const data = this.madeFor
      ? { title: `A health record shared with ${this.madeFor.name}`, text: 'This link opens only on the device with your key card. I will give you the sequence key another way.', url: this.link }
      : { title: 'A health record shared with you', text: 'Open this link; I will give you the sequence key another way.', url: this.link };
    const said = await sendLink(data, 'Link copied: paste it into a message.');
    if (said) this.sent = said;
  }

  private renderCardForm() {
    return html`<div data-card-form>
      <label for="key-card">Doctor’s key card</label>
      <p class="muted" id="key-card-help">Paste the key card (or its link) the doctor sent you, or scan the QR code on their screen.</p>
      <textarea id="key-card" aria-describedby="key-card-help" .value=${this.cardText} @input=${(e: Event) => void this.readCard((e.target as HTMLTextAreaElement).value)} autocomplete="off" spellcheck="false" placeholder="ehrvc1.… or a key-card link"></textarea>
      <ev-qr-scanner @scanned=${(e: CustomEvent<{ value: string }>) => void this.readCard(e.detail.value.trim())}></ev-qr-scanner>
      ${this.cardError ? html`<p role="alert" data-error-code=${this.cardError.code}><strong>${this.cardError.title}</strong> ${this.cardError.hint}</p>` : nothing}
      ${this.card
        ? html`<div class="card-check" data-card-checked>
              <p>Key card of <strong data-card-name>${this.card.name}</strong></p>
              <p>Fingerprint <span class="fingerprint" data-fingerprint>${this.card.fingerprint}</span></p>
              <p class="muted">Ask ${this.card.name} to read the fingerprint on their “My key card” screen: it must be the same. If it is not, do not share.</p>
            </div>
            <div class="row">
              <button type="button" ?disabled=${this.busy} @click=${this.makeForCard}>${this.busy ? 'Making a link…' : `Make a link for ${this.card.name}`}</button>
              <button type="button" class="secondary" @click=${() => (this.toCard = false)}>Back</button>
            </div>`
        : html`<div class="row"><button type="button" class="secondary" @click=${() => (this.toCard = false)}>Back</button></div>`}
    </div>`;
  }

  override render() {
    if (!this.link) {
      return html`${this.toCard
          ? this.renderCardForm()
          : html`<div class="row">
              <button type="button" ?disabled=${this.busy || !this.recordId} @click=${this.make}>${this.busy ? 'Making a link…' : 'Make a share link'}</button>
              <button type="button" class="secondary" ?disabled=${this.busy || !this.recordId} @click=${() => (this.toCard = true)}>Share to a doctor’s key card…</button>
            </div>
            <p class="muted">A share link opens for whoever has it and the sequence key. A link for a doctor’s key card opens only on that doctor’s device.</p>`}
        ${this.error ? html`<p role="alert" data-error-code=${this.error.code}><strong>${this.error.title}</strong> ${this.error.hint}</p>` : nothing}`;
    }
    return html`
      ${this.madeFor
        ? html`<p data-made-for>This link opens only on <strong>${this.madeFor.name}</strong>’s device (key card <span class="fingerprint">${this.madeFor.fingerprint}</span>). Send it to them, and tell them the <strong>sequence key</strong> another way — in a call, or a message on another app.</p>`
        : html`<p class="muted">Send this link to the person who should see the record. Tell them the <strong>sequence key</strong> another way — in a call, or a message on another app — never together with the link.</p>`}
      <div class="row">
        <button type="button" @click=${this.send}>Send…</button>
        ${this.sent ? html`<span role="status">${this.sent}</span>` : nothing}
      </div>
      <ev-secret-text label="Share link" qr .value=${this.link}></ev-secret-text>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-share-link': ShareLink;
  }
}
