import { EhrVaultError } from '../../core/errors.js';

export type DicomProblem =
  | 'not-dicom'
  | 'damaged'
  | 'no-pixel-data'
  | 'unsupported-transfer-syntax'
  | 'unsupported-pixel-layout'
  | 'frame-out-of-range'
  | 'decoder-failed';

/**
 * The record's bytes are always kept exactly; this error only means the preview cannot be drawn.
 * `details.reason` is stable, for a UI to switch on.
 */
export class DicomPreviewError extends EhrVaultError {
  constructor(reason: DicomProblem, message: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('INPUT_INVALID', message, 'The file itself is kept exactly as it was; open it in a DICOM viewer to see it.', { ...details, reason, preview: true }, { cause });
  }
}
