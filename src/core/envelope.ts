/** The envelope (FORMAT.md §5–§7), in small files: header, segments, seal, open. */
export * from './envelope-header.js';
export * from './envelope-segments.js';
export * from './envelope-seal.js';
export * from './envelope-open.js';
