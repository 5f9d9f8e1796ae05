/**
 * The car's advertising schedule as pure functions (no bleno, no timers): what goes on air at a
 * given time under a given secret, when to look again, and when what is on air is no longer
 * right. Also the version check in front of bleno's private fields.
 */
import fc from 'fast-check';
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { encodeCarAdvertisement } from '../../src/adapters/bleno/advertising-encoding.js';
import { rawHci } from '../../src/adapters/bleno/hci-privacy.js';
import { blenoHciLayer, privateLayoutChecked, recordBlenoRelease } from '../../src/adapters/bleno/private-fields.js';
import {
  MAX_ROTATION_CHECK_MS,
  ROTATION_MARGIN_MS,
  retryDelay,
  rotationDecision,
  scheduledAdvertisement,
  type AdvertisingPlan,
} from '../../src/adapters/bleno/rotation-schedule.js';
import { nobleCrypto } from '../../src/crypto/noble.js';
import { advertisingEpoch, deriveAdvertisingId } from '../../src/protocol/advertising-id.js';
import { PROXKEY_SERVICE_UUID } from '../../src/transport/gatt-profile.js';

const secret = Uint8Array.from({ length: 32 }, (_, i) => i);
const other = Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i);
const EPOCH_MS = 900_000;
const BOUNDARY = Date.UTC(2026, 4, 1, 12, 15, 0);
const plan: AdvertisingPlan = { serviceUuid: PROXKEY_SERVICE_UUID, rotation: { crypto: nobleCrypto, rotationSeconds: 900, length: 8 } };

describe('rotation schedule', () => {
  it('advertises the id of the current epoch until the next boundary (plus a margin)', () => {
    const now = BOUNDARY + 1234;
    const ad = scheduledAdvertisement(plan, now, secret, 3);
    const epoch = advertisingEpoch(now, 900);
    expect(ad.epoch).toBe(epoch);
    expect(ad.id).toEqual(deriveAdvertisingId(nobleCrypto, secret, epoch, 8));
    expect(ad.generation).toBe(3);
    expect(ad.nextAt).toBe(BOUNDARY + EPOCH_MS + ROTATION_MARGIN_MS);
    const layout = encodeCarAdvertisement({ serviceUuid: PROXKEY_SERVICE_UUID, id: ad.id! });
    expect([ad.advertisement, ad.scanResponse]).toEqual([layout.advertisement, layout.scanResponse]);
  });

  it('a new secret gives a new id in the same epoch; a static plan never rotates', () => {
    expect(scheduledAdvertisement(plan, BOUNDARY, other, 1).id).not.toEqual(scheduledAdvertisement(plan, BOUNDARY, secret, 0).id);
    const still = scheduledAdvertisement({ serviceUuid: PROXKEY_SERVICE_UUID, localName: 'car' }, BOUNDARY, secret, 0);
    expect(still).not.toHaveProperty('id');
    expect(still.nextAt).toBeUndefined();
    expect(still.scanResponse).toEqual(encodeCarAdvertisement({ localName: 'car' }).scanResponse);
  });

  it('waits while the epoch, the secret and the last attempt hold; re-advertises when any changes', () => {
    const onAir = scheduledAdvertisement(plan, BOUNDARY + 10, secret, 0);
    expect(rotationDecision(onAir, BOUNDARY + EPOCH_MS - 30_000, 0, true, 900)).toEqual({ kind: 'wait', delayMs: 30_000 + ROTATION_MARGIN_MS });
    expect(rotationDecision(onAir, BOUNDARY + 10, 0, true, 900)).toEqual({ kind: 'wait', delayMs: MAX_ROTATION_CHECK_MS });
    expect(rotationDecision(onAir, BOUNDARY + EPOCH_MS, 0, true, 900)).toEqual({ kind: 'readvertise' });
    expect(rotationDecision(onAir, BOUNDARY + 10, 1, true, 900)).toEqual({ kind: 'readvertise' });
    expect(rotationDecision(onAir, BOUNDARY + 10, 0, false, 900)).toEqual({ kind: 'readvertise' });
    // a clock set back (NTP after a stale boot) is a different epoch too
    expect(rotationDecision(onAir, BOUNDARY - 1, 0, true, 900)).toEqual({ kind: 'readvertise' });
  });

  it('never sleeps past the boundary, never longer than a minute, never negative', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4e12 }), fc.integer({ min: 0, max: EPOCH_MS - 1 }), (start, elapsed) => {
        const onAir = scheduledAdvertisement(plan, start, secret, 0);
        const now = start - (start % EPOCH_MS) + elapsed;
        const d = rotationDecision(onAir, now, 0, true, 900);
        expect(d.kind).toBe('wait');
        if (d.kind !== 'wait') return;
        expect(d.delayMs).toBeGreaterThanOrEqual(0);
        expect(d.delayMs).toBeLessThanOrEqual(MAX_ROTATION_CHECK_MS);
        expect(now + d.delayMs).toBeLessThanOrEqual(onAir.nextAt!);
        expect(rotationDecision(onAir, onAir.nextAt!, 0, true, 900).kind).toBe('readvertise');
      }),
    );
  });

  it('backs off 1 s, 2 s, 4 s … up to a minute after failed attempts', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map(retryDelay)).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  });
});

describe("bleno's private fields", () => {
  const socket = Object.assign(new EventEmitter(), { write: () => {} });
  const fake = () => ({ _bindings: { _hci: Object.assign(new EventEmitter(), { readRssi: () => {}, _socket: socket }) } });

  it('are read on an instance of unknown origin and on the checked releases', () => {
    const unknownOrigin = fake();
    expect(blenoHciLayer(unknownOrigin)).toBe(unknownOrigin._bindings._hci);
    for (const [name, version] of [
      ['@stoprocent/bleno', '0.12.4'],
      ['@abandonware/bleno', '0.6.2'],
    ] as const) {
      const bleno = fake();
      recordBlenoRelease(bleno, name, version);
      expect(privateLayoutChecked(bleno)).toBe(true);
      expect(rawHci(bleno)).toEqual({ command: expect.any(Function) });
    }
  });

  it('are left alone on a release nobody checked, or when the release is unknown', () => {
    for (const [name, version] of [
      ['@stoprocent/bleno', '0.13.0'],
      ['@abandonware/bleno', '1.0.0'],
      ['@stoprocent/bleno', undefined],
      ['some-fork/bleno', '0.12.4'],
    ] as const) {
      const bleno = fake();
      recordBlenoRelease(bleno, name, version);
      expect(privateLayoutChecked(bleno), `${name}@${version}`).toBe(false);
      expect(blenoHciLayer(bleno)).toBeUndefined();
      expect(rawHci(bleno)).toBeUndefined();
    }
  });
});
