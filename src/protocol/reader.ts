/** A bounds-checked cursor over received bytes: every overrun is a typed `ERR_DECODE`. */
import { copyOf } from '../bytes.js';
import { RemoteError } from '../errors.js';

export class ByteReader {
  #off = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.bytes.length - this.#off;
  }

  u8(): number {
    if (this.remaining < 1) this.fail('truncated');
    return this.bytes[this.#off++]!;
  }

  u16(): number {
    return (this.u8() << 8) | this.u8();
  }

  take(n: number): Uint8Array {
    if (this.remaining < n) this.fail('truncated');
    const out = copyOf(this.bytes.subarray(this.#off, this.#off + n)); // a copy, also of a Buffer
    this.#off += n;
    return out;
  }

  rest(): Uint8Array {
    return this.take(this.remaining);
  }

  /** Canonical encodings have no trailing bytes. */
  end(): void {
    if (this.remaining !== 0) this.fail('trailing bytes');
  }

  fail(detail: string): never {
    throw new RemoteError('ERR_DECODE', `${this.what}: ${detail}`);
  }
}
