/**
 * The established channel: Noise transport CipherStates carrying one body per record.
 * Associated data = the record's type byte. Nonces are implicit strict counters: a dropped,
 * replayed or reordered record fails authentication and changes nothing.
 */
import type { CipherState } from '../noise/cipher-state.js';
import { MessageType } from '../protocol/constants.js';
import { encodeBody, encodeMessage, type Body } from '../protocol/messages.js';

const AD = Uint8Array.of(MessageType.Record);

export class SecureChannel {
  constructor(
    private readonly sendState: CipherState,
    private readonly receiveState: CipherState,
    /** Noise handshake hash: a unique, public session identifier. */
    readonly handshakeHash: Uint8Array,
  ) {}

  async seal(body: Body): Promise<Uint8Array> {
    const ciphertext = await this.sendState.encryptWithAd(AD, encodeBody(body));
    return encodeMessage({ type: MessageType.Record, ciphertext });
  }

  /**
   * Authenticate and decrypt one record's ciphertext; throws `RemoteError('ERR_DECRYPT')` and
   * leaves the counter unchanged on failure. Decode the result with `decodeBody`.
   */
  decrypt(ciphertext: Uint8Array): Promise<Uint8Array> {
    return this.receiveState.decryptWithAd(AD, ciphertext);
  }

  /** Wipe both keys. */
  destroy(): void {
    this.sendState.clear();
    this.receiveState.clear();
  }
}
