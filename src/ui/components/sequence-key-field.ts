import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { generateSequenceKey, validateSequenceKey, type SequenceKeyValidation } from '../../services/sequence-keys.js';

/**
 * A sequence-key input with live validation that lists every rule the key breaks (paper Figure 5.2).
 *
 * @fires sequence-key-change - detail `{ value: string, valid: boolean, n: number }` on every edit.
 */
@customElement('ev-sequence-key-field')
export class SequenceKeyField extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    label {
      display: block;
      font-weight: 600;
      margin-bottom: 4px;
    }
    .row {
      display: flex;
      gap: 8px;
    }
    input {
      flex: 1;
      min-height: 44px;
      font: inherit;
      font-size: 1.1rem;
      padding: 0 12px;
      border-radius: 8px;
      border: 1px solid light-dark(#6b8894, #4d6670);
      background: light-dark(#fff, #13262d);
      color: inherit;
    }
    button {
      min-height: 44px;
      min-width: 44px;
      padding: 0 14px;
      border-radius: 8px;
      border: none;
      font: inherit;
      background: light-dark(#0b5c7a, #3aa1c4);
      color: light-dark(#fff, #06222c);
    }
    ul {
      margin: 8px 0 0;
      padding-left: 20px;
      color: light-dark(#a3242a, #ff9ea2);
    }
    .ok {
      margin: 8px 0 0;
      color: light-dark(#1c6b35, #8fdfa6);
    }
  `;

  @property({ type: String }) value = '';
  @state() private validation: SequenceKeyValidation = validateSequenceKey('');

  override willUpdate(changed: Map<string, unknown>) {
    if (changed.has('value')) this.validation = validateSequenceKey(this.value);
  }

  private onInput(event: InputEvent) {
    this.setValue((event.target as HTMLInputElement).value);
  }

  private onGenerate() {
    this.setValue(generateSequenceKey().text);
  }

  private setValue(value: string) {
    this.value = value;
    const result = validateSequenceKey(value);
    this.dispatchEvent(new CustomEvent('sequence-key-change', { detail: { value, valid: result.ok, n: result.ok ? result.key.n : 0 }, bubbles: true, composed: true }));
  }

  override render() {
    const v = this.validation;
    return html`
      <label for="key">Sequence key</label>
      <div class="row">
        <input id="key" .value=${this.value} @input=${this.onInput} autocomplete="off" autocapitalize="off" spellcheck="false" aria-describedby="key-status" />
        <button type="button" @click=${this.onGenerate}>Generate</button>
      </div>
      <div id="key-status" aria-live="polite">
        ${v.ok
          ? html`<p class="ok">Valid: the record will be split into ${v.key.n} fragments.</p>`
          : this.value === ''
            ? html`<p>At least 8 different characters, no spaces.</p>`
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
