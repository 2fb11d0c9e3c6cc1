import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { getVault } from '../../services/vault.js';
import { describeError, type ErrorView } from '../controllers/describe-error.js';
import { sharedStyles } from '../styles/shared.js';
import './secret-text.js';

/**
 * Makes a share link for a record (issue #13): one link that opens in any browser, with another account or
 * none, read-only. The record key travels after `#` (never sent to a server); the sequence key never does.
 * "Send…" uses the system share sheet where there is one, and copies the link elsewhere.
 *
 * @fires link-made - when the link is ready; detail: { link }.
 */
@customElement('ev-share-link')
export class ShareLink extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
    `,
  ];

  @property({ type: String }) recordId = '';
  @state() private link = '';
  @state() private busy = false;
  @state() private sent = '';
  @state() private error: ErrorView | undefined;

  private async make() {
    this.busy = true;
    this.error = undefined;
    try {
      this.link = await (await getVault()).shareLink(this.recordId);
      this.dispatchEvent(new CustomEvent('link-made', { detail: { link: this.link }, bubbles: true, composed: true }));
    } catch (error) {
      this.error = describeError(error);
    } finally {
      this.busy = false;
    }
  }

  private async send() {
    const data = { title: 'A health record shared with you', text: 'Open this link; I will give you the sequence key another way.', url: this.link };
    if (typeof navigator.share === 'function' && (navigator.canShare?.(data) ?? true)) {
      try {
        await navigator.share(data);
        this.sent = 'Shared.';
        return;
      } catch (error) {
        if (error instanceof DOMException && error.name === 'AbortError') return;
      }
    }
    await navigator.clipboard?.writeText(this.link).catch(() => undefined);
    this.sent = 'Link copied: paste it into a message.';
  }

  override render() {
    if (!this.link) {
      return html`<div class="row"><button type="button" ?disabled=${this.busy || !this.recordId} @click=${this.make}>${this.busy ? 'Making a link…' : 'Make a share link'}</button></div>
        ${this.error ? html`<p role="alert" data-error-code=${this.error.code}><strong>${this.error.title}</strong> ${this.error.hint}</p>` : nothing}`;
    }
    return html`
      <p class="muted">Send this link to the person who should see the record. Tell them the <strong>sequence key</strong> another way — in a call, or a message on another app — never together with the link.</p>
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
