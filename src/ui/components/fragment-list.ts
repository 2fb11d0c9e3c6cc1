import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { sharedStyles } from '../styles/shared.js';
import { formatBytes } from './format.js';

export interface FragmentRow {
  /** 0-based object slot. The index characters are sealed inside the objects and never shown here. */
  readonly slot: number;
  readonly size: number;
  readonly state: 'on device' | 'uploading' | 'in the cloud' | 'failed';
}

/**
 * The fragments of a record (paper Figure 5.3) by position, size and upload state. Their index
 * characters are the sequence key's characters, a secret: they are never shown.
 */
@customElement('ev-fragment-list')
export class FragmentList extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      ol {
        list-style: none;
        padding: 0;
        margin: 0;
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(92px, 1fr));
        gap: 6px;
      }
      li {
        border: 1px solid var(--ev-border);
        border-radius: var(--ev-radius);
        padding: 6px 8px;
        display: grid;
        gap: 2px;
        font-size: 0.9rem;
      }
      .state-in-the-cloud {
        color: var(--ev-ok);
      }
      .state-failed {
        color: var(--ev-danger);
      }
    `,
  ];

  @property({ attribute: false }) fragments: readonly FragmentRow[] = [];

  override render() {
    return html`<ol aria-label="Fragments">
      ${this.fragments.map(
        (f, i) => html`<li>
          <strong>Part ${i + 1}</strong>
          <span class="muted">${formatBytes(f.size)}</span>
          <span class="state-${f.state.replaceAll(' ', '-')}">${f.state}</span>
        </li>`,
      )}
    </ol>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-fragment-list': FragmentList;
  }
}
