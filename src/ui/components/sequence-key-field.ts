import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { generateSequenceKey, validateSequenceKey, type SequenceKeyValidation } from '../../services/sequence-keys.js';
import { sharedStyles } from '../styles/shared.js';

/**
 * A sequence-key input with live validation that lists every rule the key breaks (paper Figure 5.2),
 * Generate, Copy and Show/Hide. Surrounding whitespace of a pasted key is removed (a key never has any).
 *
 * @fires sequence-key-change - detail `{ value: string, valid: boolean, n: number }` on every edit.
 */
@customElement('ev-sequence-key-field')
export class SequenceKeyField extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      label {
        display: block;
        margin-bottom: 4px;
      }
      input {
        display: block;
        width: 100%;
        min-width: 0;
        min-height: 44px;
        font: inherit;
        font-size: 1.1rem;
        font-family: ui-monospace, monospace;
        padding: 0 12px;
        border-radius: var(--ev-radius);
        border: 1px solid light-dark(#6b8894, #4d6670);
        background: var(--ev-surface);
        color: inherit;
      }
      .buttons {
        margin-top: 8px;
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(80px, 1fr));
        gap: 8px;
        max-width: 420px;
      }
      .buttons button {
        padding: 0 8px;
      }
      ul {
        margin: 8px 0 0;
        padding-left: 20px;
        color: var(--ev-danger);
      }
      .ok {
        margin: 8px 0 0;
        color: var(--ev-ok);
      }
      #key-status p {
        margin: 8px 0 0;
      }
    `,
  ];

  @property({ type: String }) value = '';
  /** The visible label (the field is reused by Protect and Open). */
  @property({ type: String }) label = 'Sequence key';
  /** Open does not generate keys: it types the one received. */
  @property({ type: Boolean, attribute: 'no-generate' }) noGenerate = false;
  @state() private validation: SequenceKeyValidation = validateSequenceKey('');
  @state() private visible = false;
  @state() private copied = false;

  override willUpdate(changed: Map<string, unknown>) {
    if (changed.has('value')) this.validation = validateSequenceKey(this.value);
  }

  /** Hides the key again (e.g. once a share card is on screen: one screenshot must not carry both secrets). */
  conceal() {
    this.visible = false;
  }

  /** Moves the focus to the input (e.g. from an error's "check the sequence key"). */
  override focus() {
    this.renderRoot.querySelector<HTMLInputElement>('input')?.focus();
  }

  private onInput(event: InputEvent) {
    const input = event.target as HTMLInputElement;
    const trimmed = input.value.trim();
    if (trimmed !== input.value) input.value = trimmed;
    this.setValue(trimmed);
  }

  private onGenerate() {
    this.visible = true;
    this.setValue(generateSequenceKey().text);
  }

  private async copy() {
    await navigator.clipboard?.writeText(this.value).catch(() => undefined);
    this.copied = true;
    setTimeout(() => (this.copied = false), 2000);
  }

  private setValue(value: string) {
    this.value = value;
    this.copied = false;
    const result = validateSequenceKey(value);
    this.dispatchEvent(new CustomEvent('sequence-key-change', { detail: { value, valid: result.ok, n: result.ok ? result.key.n : 0 }, bubbles: true, composed: true }));
  }

  override render() {
    const v = this.validation;
    return html`
      <label for="key">${this.label}</label>
      <input
        id="key"
        type=${this.visible ? 'text' : 'password'}
        .value=${this.value}
        @input=${this.onInput}
        autocomplete="off"
        autocapitalize="off"
        spellcheck="false"
        aria-describedby="key-status"
      />
      <div class="buttons">
        ${this.noGenerate ? '' : html`<button type="button" @click=${this.onGenerate}>Generate</button>`}
        <button type="button" class="secondary" aria-pressed=${this.visible ? 'true' : 'false'} @click=${() => (this.visible = !this.visible)}>${this.visible ? 'Hide' : 'Show'}</button>
        ${this.noGenerate ? '' : html`<button type="button" class="secondary" ?disabled=${this.value === ''} @click=${this.copy}>${this.copied ? 'Copied' : 'Copy'}</button>`}
      </div>
      <div id="key-status" aria-live="polite">
        ${v.ok
          ? html`<p class="ok">Valid: the record will be split into ${v.key.n} fragments.</p>`
          : this.value === ''
            ? html`<p class="muted">At least 8 different characters, no spaces.</p>`
            : html`<ul>${v.messages.map((m) => html`<li>${m}</li>`)}</ul>`}
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-sequence-key-field': SequenceKeyField;
  }
}
