/**
 * A doctor's key-card link (`…/#ehrvc1.…`) opened on this device: the card waits here, in memory only,
 * for the next share sheet, so the patient only has to choose the record (issue #13).
 */
let arrived = '';

export function keepArrivedKeyCard(text: string): void {
  arrived = text;
}

/** Hands the arrived card to one share sheet. */
export function takeArrivedKeyCard(): string {
  const text = arrived;
  arrived = '';
  return text;
}

export function hasArrivedKeyCard(): boolean {
  return arrived !== '';
}
