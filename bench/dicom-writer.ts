/**
 * Writes a minimal DICOM Part 10 file (Explicit VR Little Endian) with synthetic CT pixels, for the
 * clinical bench. Bench-only: the app never writes DICOM, it keeps the original bytes.
 */
const encoder = new TextEncoder();

function element(group: number, elem: number, vr: string, value: Uint8Array): Uint8Array {
  const padded = value.length % 2 ? new Uint8Array([...value, vr === 'UI' || vr === 'OB' ? 0 : 0x20]) : value;
  const long = ['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr);
  const head = new Uint8Array(long ? 12 : 8);
  const view = new DataView(head.buffer);
  view.setUint16(0, group, true);
  view.setUint16(2, elem, true);
  head[4] = vr.charCodeAt(0);
  head[5] = vr.charCodeAt(1);
  if (long) view.setUint32(8, padded.length, true);
  else view.setUint16(6, padded.length, true);
  const out = new Uint8Array(head.length + padded.length);
  out.set(head);
  out.set(padded, head.length);
  return out;
}

const text = (group: number, elem: number, vr: string, value: string) => element(group, elem, vr, encoder.encode(value));
const us = (group: number, elem: number, value: number) => element(group, elem, 'US', new Uint8Array(new Uint16Array([value]).buffer));

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A CT-like phantom in HU: air, a soft-tissue ellipse, a bone ring, lungs, a little noise; one slice per frame. */
export function ctPhantom(size: number, frames: number): Int16Array {
  const out = new Int16Array(size * size * frames);
  let seed = 7;
  for (let f = 0; f < frames; f++) {
    const shrink = 1 - (0.3 * f) / Math.max(1, frames);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const dx = (x - size / 2) / (size * 0.42 * shrink);
        const dy = (y - size / 2) / (size * 0.32 * shrink);
        const r = dx * dx + dy * dy;
        const lung = ((Math.abs(dx) - 0.45) ** 2 + dy * dy) / 0.09 < 1;
        let hu = r > 1 ? -1000 : r > 0.85 ? 900 : lung ? -850 : 45;
        seed = (seed * 1103515245 + 12345) >>> 0;
        hu += ((seed >>> 16) % 21) - 10;
        out[(f * size + y) * size + x] = hu;
      }
    }
  }
  return out;
}

/** Part 10 file with stored value = HU + 1024 (Rescale Intercept −1024), window 40/400. */
export function writeCtDicom(size: number, frames: number): Uint8Array<ArrayBuffer> {
  const hu = ctPhantom(size, frames);
  const stored = new Int16Array(hu.length);
  for (let i = 0; i < hu.length; i++) stored[i] = hu[i]! + 1024;
  const sopClass = '1.2.840.10008.5.1.4.1.1.2';
  const instance = '2.25.1234567890123456789';
  const metaBody = concat([
    element(0x0002, 0x0001, 'OB', new Uint8Array([0, 1])),
    text(0x0002, 0x0002, 'UI', sopClass),
    text(0x0002, 0x0003, 'UI', instance),
    text(0x0002, 0x0010, 'UI', '1.2.840.10008.1.2.1'),
  ]);
  const groupLength = element(0x0002, 0x0000, 'UL', new Uint8Array(new Uint32Array([metaBody.length]).buffer));
  const dataset = concat([
    text(0x0008, 0x0016, 'UI', sopClass),
    text(0x0008, 0x0018, 'UI', instance),
    text(0x0008, 0x0060, 'CS', 'CT'),
    text(0x0010, 0x0010, 'PN', 'Bench^Phantom'),
    us(0x0028, 0x0002, 1),
    text(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
    text(0x0028, 0x0008, 'IS', String(frames)),
    us(0x0028, 0x0010, size),
    us(0x0028, 0x0011, size),
    us(0x0028, 0x0100, 16),
    us(0x0028, 0x0101, 16),
    us(0x0028, 0x0102, 15),
    us(0x0028, 0x0103, 1),
    text(0x0028, 0x1050, 'DS', '40'),
    text(0x0028, 0x1051, 'DS', '400'),
    text(0x0028, 0x1052, 'DS', '-1024'),
    text(0x0028, 0x1053, 'DS', '1'),
    element(0x7fe0, 0x0010, 'OW', new Uint8Array(stored.buffer)),
  ]);
  return concat([new Uint8Array(128), encoder.encode('DICM'), groupLength, metaBody, dataset]);
}
