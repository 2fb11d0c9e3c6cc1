/** Invalid configuration (environment or StackOptions); start.ts prints its message without a stack. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
