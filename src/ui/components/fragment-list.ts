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
 * The sealed fragments of a record (paper Figure 5.3): number, size and upload state. Their index
 * characters are the sequence key, so they are never drawn (a screenshot of a share card must not carry it).
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
        grid-template-columns: repeat(auto-fill, minmax(104px, 1fr));
        gap: 8px;
      }
      li {
        border: 1px solid var(--ev-border);
        border-radius: var(--ev-radius);
        padding: 8px 10px;
        display: grid;
        gap: 2px;
      }
      .index {
        font-size: 1.4rem;
        font-weight: 700;
        font-family: ui-monospace, monospace;
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
          <span class="index" aria-label="Fragment ${f.slot + 1} of ${this.fragments.length}">${i + 1}</span>
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
