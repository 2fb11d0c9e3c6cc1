/**
 * Types for the parts of the Cornerstone WASM codecs and jpeg-lossless-decoder-js we use; the packages
 * ship none (their Emscripten/embind objects are documented only in their C++ sources).
 */
interface EmscriptenCodecFrameInfo {
  readonly width: number;
  readonly height: number;
  readonly bitsPerSample: number;
  readonly componentCount: number;
  readonly isSigned: boolean;
}

interface EmscriptenCodecDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): EmscriptenCodecFrameInfo;
  delete(): void;
}

interface EmscriptenCodecOptions {
  locateFile?: (path: string, prefix: string) => string;
  print?: (text: string) => void;
  printErr?: (text: string) => void;
}

declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  interface CharlsModule {
    JpegLSDecoder: new () => EmscriptenCodecDecoder & { getInterleaveMode(): number; getNearLossless(): number };
  }
  const factory: (options?: EmscriptenCodecOptions) => Promise<CharlsModule>;
  export default factory;
}

declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  interface OpenJpegModule {
    J2KDecoder: new () => EmscriptenCodecDecoder;
  }
  const factory: (options?: EmscriptenCodecOptions) => Promise<OpenJpegModule>;
  export default factory;
}

declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs' {
  interface LibJpegTurboModule {
    JPEGDecoder: new () => EmscriptenCodecDecoder;
  }
  const factory: (options?: EmscriptenCodecOptions) => Promise<LibJpegTurboModule>;
  export default factory;
}

declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    constructor(buffer?: ArrayBuffer | null, numBytes?: number);
    decode(buffer?: ArrayBuffer, offset?: number, length?: number, numBytes?: number): Uint8Array | Uint16Array;
    numComp: number;
    xDim: number;
    yDim: number;
    precision: number | undefined;
  }
}
