import { css } from 'lit';

/**
 * Shared look: system fonts, 44 px touch targets, light/dark via `light-dark()`, and no motion when the
 * person asked for less.
 */
export const sharedStyles = css`
  :host {
    --ev-accent: light-dark(#0b5c7a, #5bc0e0);
    --ev-accent-ink: light-dark(#ffffff, #04212b);
    --ev-ink: light-dark(#102a33, #e6f1f5);
    --ev-muted: light-dark(#4a6670, #a5bcc4);
    --ev-surface: light-dark(#ffffff, #13262d);
    --ev-border: light-dark(#b9cdd4, #35525c);
    --ev-danger: light-dark(#a3242a, #ff9ea2);
    --ev-ok: light-dark(#1c6b35, #8fdfa6);
    --ev-radius: 10px;
    color: var(--ev-ink);
    font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
  }
  * {
    box-sizing: border-box;
  }
  button,
  .button {
    min-height: 44px;
    min-width: 44px;
    padding: 0 16px;
    border-radius: var(--ev-radius);
    border: 1px solid transparent;
    font: inherit;
    font-weight: 600;
    background: var(--ev-accent);
    color: var(--ev-accent-ink);
    cursor: pointer;
    display: inline-flex;
    align-items: center;
    justify-content: center;
    gap: 8px;
    text-decoration: none;
  }
  button.secondary,
  .button.secondary {
    background: transparent;
    color: var(--ev-accent);
    border-color: var(--ev-border);
  }
  button.danger {
    background: var(--ev-danger);
    color: light-dark(#fff, #2a0506);
  }
  button:disabled {
    opacity: 0.5;
    cursor: not-allowed;
  }
  button:focus-visible,
  a:focus-visible,
  input:focus-visible,
  textarea:focus-visible,
  select:focus-visible {
    outline: 3px solid var(--ev-accent);
    outline-offset: 2px;
  }
  input[type='text'],
  input[type='password'],
  input[type='url'],
  textarea {
    width: 100%;
    min-height: 44px;
    font: inherit;
    padding: 8px 12px;
    border-radius: var(--ev-radius);
    border: 1px solid var(--ev-border);
    background: var(--ev-surface);
    color: inherit;
  }
  label {
    font-weight: 600;
  }
  .card {
    background: var(--ev-surface);
    border: 1px solid var(--ev-border);
    border-radius: 14px;
    padding: 16px;
    margin-block: 12px;
  }
  .muted {
    color: var(--ev-muted);
  }
  .error {
    color: var(--ev-danger);
  }
  .row {
    display: flex;
    gap: 8px;
    flex-wrap: wrap;
    align-items: center;
  }
  h2 {
    font-size: 1.25rem;
    margin: 0 0 8px;
  }
  h3 {
    font-size: 1.05rem;
    margin: 0 0 8px;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
  @media (prefers-reduced-motion: reduce) {
    * {
      transition: none !important;
      animation: none !important;
    }
  }
`;
