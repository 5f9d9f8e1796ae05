/** The phone web app's page: renders the wallet and wires the buttons to `PhoneApp`. */
import type { CarRecord, CommandResult, KeyListEntry, StandardCommand } from '../../../src/index.js';
import { describeError, reasonText } from './messages.js';
import { PhoneApp } from './phone.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
};
const show = (id: string, visible: boolean) => ($(id).hidden = !visible);

function showError(e: unknown): void {
  $('error').textContent = e === undefined ? '' : describeError(e);
  show('error', e !== undefined);
}

function showResult(r: CommandResult): void {
  const el = $('last-result');
  const at = new Date().toLocaleTimeString();
  el.textContent = r.ok ? `✓ ${r.command.kind}: ok at ${at}` : `✗ ${r.command.kind}: denied — ${r.status}: ${reasonText(r.status)} (${at})`;
  el.className = `result ${r.ok ? 'ok' : 'denied'}`;
  el.dataset.status = r.status;
  show('last-result', true);
}

/** Run a button's action: one at a time, busy indicator, errors shown. */
function action(button: string | HTMLElement, work: () => Promise<void>): void {
  (typeof button === 'string' ? $(button) : button).addEventListener('click', () => {
    if (document.body.dataset.busy === 'true') return;
    document.body.dataset.busy = 'true';
    show('busy', true);
    showError(undefined);
    for (const b of Array.from(document.querySelectorAll('button'))) b.disabled = true;
    void work()
      .catch(showError)
      .finally(() => {
        document.body.dataset.busy = 'false';
        show('busy', false);
        for (const b of Array.from(document.querySelectorAll('button'))) b.disabled = false;
      });
  });
}

function currentCar(app: PhoneApp): CarRecord | undefined {
  const cars = app.wallet.cars();
  const selected = $<HTMLSelectElement>('car-select').value || undefined;
  return cars.find((c) => c.carId === selected) ?? cars[0];
}

function render(app: PhoneApp): void {
  const cars = app.wallet.cars();
  const car = currentCar(app);
  show('pairing', cars.length === 0);
  show('car', car !== undefined);
  show('owner', car?.role === 'owner');
  const select = $<HTMLSelectElement>('car-select');
  select.replaceChildren(...cars.map((c) => new Option(`${c.name} (${c.carId.slice(0, 8)})`, c.carId, false, c.carId === car?.carId)));
  show('car-select', cars.length > 1);
  if (car) {
    $('car-name').textContent = car.name;
    $('car-role').textContent = car.role === 'owner' ? 'owner' : car.grant ? 'shared key (not used yet)' : 'shared key';
  }
  $('key-id').textContent = app.wallet.keyId;
  $('key-custody').textContent = app.identity.ecdhKey.extractable ? 'extractable key!' : 'non-extractable WebCrypto key';
  document.body.dataset.ready = 'true';
}

function renderKeys(app: PhoneApp, car: CarRecord, keys: readonly KeyListEntry[]): void {
  $('keys-list').replaceChildren(
    ...keys.map((k) => {
      const li = document.createElement('li');
      li.dataset.keyId = k.id;
      li.textContent = `${k.id} ${k.role} ${k.permissions.join(',')}${k.revoked ? ' revoked' : ''}${k.id === car.keyId ? ' (this phone)' : ''}`;
      if (!k.revoked && k.id !== car.keyId) {
        const b = document.createElement('button');
        b.textContent = 'Revoke';
        b.id = `revoke-${k.id}`;
        li.append(b);
        action(b, async () => {
          const r = await app.command(car.carId, { kind: 'revoke', target: k.id });
          showResult(r);
          if (r.ok) await listKeys(app);
        });
      }
      return li;
    }),
  );
}

async function listKeys(app: PhoneApp): Promise<void> {
  const car = currentCar(app);
  if (!car) return;
  const listed = await app.listKeys(car.carId);
  if ('keys' in listed) renderKeys(app, car, listed.keys);
  else showResult(listed.denied);
}

function wire(app: PhoneApp): void {
  const run =
    (command: StandardCommand, intent = false) =>
    async () => {
      const car = currentCar(app);
      if (car) showResult(await app.command(car.carId, command, intent));
      render(app);
    };
  action('btn-pair', async () => {
    await app.pair($<HTMLInputElement>('pair-code').value);
    render(app);
  });
  action('btn-unlock', run('unlock'));
  action('btn-lock', run('lock'));
  action('btn-trunk', run('trunk'));
  $('btn-start').addEventListener('click', () => show('start-confirm', true));
  $('btn-start-cancel').addEventListener('click', () => show('start-confirm', false));
  action('btn-start-confirm', async () => {
    show('start-confirm', false);
    await run('start', true)(); // the confirm is the user's intent (docs/PROTOCOL.md)
  });
  action('btn-request-key', async () => {
    const out = $<HTMLTextAreaElement>('key-request');
    out.value = app.wallet.keyRequest();
    show('key-request', true);
  });
  action('btn-accept-share', async () => {
    const car = await app.wallet.acceptShare($<HTMLTextAreaElement>('share-input').value.trim());
    $<HTMLSelectElement>('car-select').value = car.carId;
    render(app);
  });
  action('btn-share', async () => {
    const car = currentCar(app);
    const permissions = Array.from(document.querySelectorAll<HTMLInputElement>('#share-permissions input:checked')).map((i) => i.value);
    const { share } = await app.wallet.share($<HTMLTextAreaElement>('share-request').value.trim(), { ...(car && { car: car.carId }), permissions });
    $<HTMLTextAreaElement>('share-output').value = share;
    show('share-output', true);
  });
  action('btn-list-keys', () => listKeys(app));
  $('car-select').addEventListener('change', () => render(app));
}

/** `…/#pair=<proxkey://pair?…>` or `?code=12345678` (the car's QR code can open the app): prefill the code. */
function prefillPairingCode(): void {
  const hash = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  const payload = hash.get('pair') ?? query.get('pair');
  const code = payload?.startsWith('proxkey://') ? new URLSearchParams(payload.split('?')[1] ?? '').get('code') : (query.get('code') ?? payload);
  if (code && /^\d{8}$/.test(code)) $<HTMLInputElement>('pair-code').value = code;
}

async function main(): Promise<void> {
  const bluetooth = navigator.bluetooth as Navigator['bluetooth'] | undefined;
  if (!bluetooth) {
    $('support-error').textContent =
      'This browser does not support Web Bluetooth. Use Chrome, Edge or Samsung Internet on Android (on iOS: the Bluefy browser), over HTTPS.';
    show('support-error', true);
  }
  // the built app works offline; the dev server (hot reload) never caches
  if (!import.meta.hot && 'serviceWorker' in navigator) void navigator.serviceWorker.register('./sw.js').catch(() => {});
  // Ask the browser not to evict this site's storage (the phone's key lives there) under pressure.
  void navigator.storage?.persist?.().catch(() => false);
  prefillPairingCode();
  // A save that failed after the car answered: the action's own result stays as the car said.
  const app = await PhoneApp.open(bluetooth, (e) => showError(new Error(`The car answered, but this phone could not save an update: ${e.message}`)));
  wire(app);
  render(app);
}

main().catch((e: unknown) => {
  showError(e);
  document.body.dataset.ready = 'error';
});
