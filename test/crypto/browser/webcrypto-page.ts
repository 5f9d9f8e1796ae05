/**
 * Runs in a real browser (bundled by test/crypto/webcrypto-browser.test.ts for platform
 * "browser", so it also proves webCryptoProvider needs no Node built-in): the browser's own
 * crypto.subtle against the Wycheproof files it implements (ECDH raw points, ECDSA P1363,
 * AES-GCM), checked against the expected results and against nobleCrypto. The tallies go to
 * document.title for the test to read.
 */
import { concatBytes, equalBytes, fromHex, utf8 } from '../../../src/bytes.js';
import { nobleCrypto } from '../../../src/crypto/noble.js';
import { webCryptoProvider } from '../../../src/crypto/webcrypto.js';
import aesGcm from '../../vectors/wycheproof/aes_gcm_test.json' with { type: 'json' };
import ecdh from '../../vectors/wycheproof/ecdh_secp256r1_ecpoint_test.json' with { type: 'json' };
import ecdsa from '../../vectors/wycheproof/ecdsa_secp256r1_sha256_p1363_test.json' with { type: 'json' };

const crypto = webCryptoProvider();
const tally: Record<string, number> = {};
const failures: string[] = [];
const count = (bucket: string) => (tally[bucket] = (tally[bucket] ?? 0) + 1);
const code = (e: unknown) => (e as { code?: string }).code ?? String(e);

async function replayEcdh() {
  for (const g of ecdh.testGroups)
    for (const t of g.tests) {
      const priv = fromHex(BigInt(`0x${t.private}`).toString(16).padStart(64, '0'));
      try {
        const shared = await crypto.p256Ecdh(priv, fromHex(t.public));
        if (t.result !== 'invalid' && equalBytes(shared, fromHex(t.shared))) count('ecdh: secret');
        else failures.push(`ecdh ${t.tcId}: accepted (${t.result})`);
      } catch (e) {
        if (t.result === 'invalid' && code(e) === 'ERR_INVALID_POINT') count('ecdh: ERR_INVALID_POINT');
        else failures.push(`ecdh ${t.tcId}: ${code(e)} (${t.result})`);
      }
    }
}

async function replayEcdsa() {
  for (const g of ecdsa.testGroups)
    for (const t of g.tests) {
      const ok = await crypto.p256Verify(fromHex(g.publicKey.uncompressed), fromHex(t.msg), fromHex(t.sig));
      if (ok === (t.result === 'valid')) count(`ecdsa: ${ok}`);
      else failures.push(`ecdsa ${t.tcId}: ${ok} (${t.result})`);
    }
}

async function replayAesGcm() {
  for (const g of aesGcm.testGroups) {
    if (g.keySize !== 256 || g.ivSize !== 96) continue;
    for (const t of g.tests) {
      const [key, iv, aad, msg] = [fromHex(t.key), fromHex(t.iv), fromHex(t.aad), fromHex(t.msg)];
      const sealed = concatBytes(fromHex(t.ct), fromHex(t.tag));
      try {
        const opened = await crypto.aeadOpen('aes-256-gcm', key, iv, sealed, aad);
        const again = await crypto.aeadSeal('aes-256-gcm', key, iv, msg, aad);
        if (t.result === 'valid' && equalBytes(opened, msg) && equalBytes(again, sealed)) count('aes-gcm: sealed and opened');
        else failures.push(`aes-gcm ${t.tcId}: opened (${t.result})`);
      } catch (e) {
        if (t.result === 'invalid' && code(e) === 'ERR_DECRYPT') count('aes-gcm: ERR_DECRYPT');
        else failures.push(`aes-gcm ${t.tcId}: ${code(e)} (${t.result})`);
      }
    }
  }
}

/** PKCS#8 import of a bare scalar, and signatures both ways with nobleCrypto. */
async function keysAndSignatures() {
  const secret = fromHex('c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721');
  const kp = await crypto.p256KeyPairFromSecret(secret);
  if (!equalBytes(kp.publicKey, (await nobleCrypto.p256KeyPairFromSecret(secret)).publicKey)) failures.push('public key differs');
  for (let i = 0; i < 8; i++) {
    const m = utf8(`message ${i}`);
    if (!(await nobleCrypto.p256Verify(kp.publicKey, m, await crypto.p256Sign(kp.secretKey, m)))) failures.push(`browser signature ${i}`);
    if (!(await crypto.p256Verify(kp.publicKey, m, await nobleCrypto.p256Sign(secret, m)))) failures.push(`noble signature ${i}`);
  }
  count('keys and signatures');
}

async function main() {
  await replayEcdh();
  await replayEcdsa();
  await replayAesGcm();
  await keysAndSignatures();
  document.title = `RESULT ${JSON.stringify({ tally, failures: failures.slice(0, 20) })}`;
}

main().catch((e: unknown) => {
  document.title = `RESULT ${JSON.stringify({ tally, failures: [`threw ${String(e)}`] })}`;
});
