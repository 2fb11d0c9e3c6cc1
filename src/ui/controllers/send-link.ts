/**
 * "Send…": the system share sheet where there is one, else the link is copied (desktop Firefox, Chrome on
 * desktops). Returns what to tell the person, or '' when they cancelled the sheet.
 */
export async function sendLink(data: { readonly title: string; readonly text: string; readonly url: string }, copiedMessage: string): Promise<string> {
  if (typeof navigator.share === 'function' && (navigator.canShare?.(data) ?? true)) {
    try {
      await navigator.share(data);
      return 'Shared.';
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') return '';
    }
  }
  await navigator.clipboard?.writeText(data.url).catch(() => undefined);
  return copiedMessage;
}
