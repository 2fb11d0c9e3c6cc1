/**
 * Base64 SHA-256 of a fragment, the form S3's `x-amz-checksum-sha256` takes. Fragments are at most tens
 * of MiB, so reading one whole into memory for a one-shot digest is fine (WebCrypto has no streaming
 * digest).
 */
export async function sha256Base64(data: Blob | Uint8Array): Promise<string> {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(await data.arrayBuffer());
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let binary = '';
  for (const byte of digest) binary += String.fromCharCode(byte);
  return btoa(binary);
}
