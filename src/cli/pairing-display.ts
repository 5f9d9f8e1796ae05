/** How the car shows an open pairing mode: the code, a terminal QR code of the payload, what to type. */
import { renderQr } from './qr.js';
import type { Ui } from './ui.js';

export async function showPairing(ui: Ui, p: { code: string; payload: string; expiresAt: number }): Promise<void> {
  const qr = ui.json ? undefined : await renderQr(p.payload);
  ui.result(
    { event: 'pairing', code: p.code, payload: p.payload, expiresAt: p.expiresAt },
    `pairing mode open for ${Math.round((p.expiresAt - Date.now()) / 1000)} s — code ${p.code}\n${qr ?? ''}${qr ? '\n' : ''}  payload: ${p.payload}\n  on the phone: proxkey pair ${p.code}`,
  );
}
