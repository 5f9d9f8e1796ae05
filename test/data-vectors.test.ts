/**
 * test/vectors/framing.json and advertising.json, replayed through the library's own codecs:
 * every fragmentation, every receiver case (outputs in order), every advertising value.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../src/bytes.js';
import { advertisingIdIn } from '../src/adapters/car-advertising.js';
import { encodeCarAdvertisement } from '../src/adapters/bleno/advertising-encoding.js';
import {
  advertisingEpoch,
  decodeAdvertisingServiceData,
  deriveAddressIrk,
  deriveAdvertisingId,
  fragmentMessage,
  resolvablePrivateAddress,
  resolvesPrivateAddress,
  valueSizeForMtu,
} from '../src/index.js';
import { decodeGattInfo } from '../src/transport/gatt-info.js';
import { Reassembler } from '../src/transport/reassembler.js';
import { runReceiver, type ReceiverCase } from '../scripts/data-vectors.js';
import { scripted } from '../scripts/transcript.js';
import { PROVIDERS } from './crypto/providers.js';

const read = <T>(f: string) => JSON.parse(readFileSync(new URL(`./vectors/${f}`, import.meta.url), 'utf8')) as T;

interface Framing {
  fragmentations: { message: string; messageHex: string; mtu: number; valueSize: number; fragments: string[] }[];
  receiverCases: ReceiverCase[];
}
const framing = read<Framing>('framing.json');

describe('framing vectors', () => {
  it.each(framing.fragmentations.map((f) => [`${f.message} at MTU ${f.mtu}`, f] as const))('%s: fragments and reassembles', (_n, f) => {
    expect(valueSizeForMtu(f.mtu)).toBe(f.valueSize);
    expect(fragmentMessage(fromHex(f.messageHex), f.valueSize).map(toHex)).toEqual(f.fragments);
    const r = new Reassembler();
    const out = f.fragments.flatMap((v) => r.push(fromHex(v), 0));
    expect(out.map((o) => (o instanceof Uint8Array ? toHex(o) : o))).toEqual([f.messageHex]);
    expect(f.fragments.every((v) => v.length / 2 <= f.valueSize)).toBe(true);
  });

  it('cover MTU 23, 185 and 517 (value sizes 20, 182, 512)', () => {
    expect([...new Set(framing.fragmentations.map((f) => `${f.mtu}:${f.valueSize}`))]).toEqual(['23:20', '185:182', '517:512']);
  });

  it.each(framing.receiverCases.map((c) => [c.name, c] as const))('receiver: %s', (_n, c) => {
    expect(runReceiver(c.maxMessageSize, c.partialTimeoutMs, c.steps)).toEqual(c.steps);
  });

  it('break every receiver rule of docs/BLE.md, each followed by a cleanly received message', () => {
    const rules = new Set(framing.receiverCases.map((c) => c.rule));
    for (const rule of [
      'empty value',
      'reserved bits',
      'continuation without a start',
      'wrong index',
      'bytes beyond the total',
      'early E',
      'missing E',
      'message above the maximum',
      'partial message idle for 1000 ms or more',
    ])
      expect(rules, rule).toContain(rule);
    expect([...new Set(framing.receiverCases.map((c) => c.bleRule))].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const c of framing.receiverCases.filter((x) => x.rule === 'ok')) expect(c.steps.at(-1)!.outputs, c.name).toHaveLength(1);
    for (const c of framing.receiverCases.filter((x) => x.rule !== 'ok')) {
      const outputs = c.steps.flatMap((s) => s.outputs);
      expect(outputs.filter((o) => 'error' in o).length, c.name).toBe(1);
      expect(outputs.at(-1), c.name).toEqual({ message: '0f0b' });
    }
  });
});

interface Advertising {
  advertisingSecret: string;
  ids: {
    unixMs: number;
    rotationSeconds: number;
    epoch: number;
    id: string;
    serviceData: string;
    advertisement: string;
    scanResponse: string;
    companyId: { companyId: number; id: string; advertisement: string; scanResponse: string };
  }[];
  privateAddress: { irk: string; prandDraws: string[]; prand: string; hash: string; address: string; formatted: string; otherIrk: string };
  info: { framingVersion: number; maxMessageSize: number; protocolVersions: number[]; value: string };
}
const adv = read<Advertising>('advertising.json');

describe('advertising vectors', () => {
  it.each(PROVIDERS)('ids, service data and on-air bytes per epoch (%s)', (_n, crypto) => {
    const secret = fromHex(adv.advertisingSecret);
    expect(adv.ids.map((i) => i.epoch)).toEqual([1963584, 1963584, 1963585]);
    for (const i of adv.ids) {
      expect(advertisingEpoch(i.unixMs, i.rotationSeconds)).toBe(i.epoch);
      expect(toHex(deriveAdvertisingId(crypto, secret, i.epoch))).toBe(i.id);
      const onAir = encodeCarAdvertisement({ id: fromHex(i.id) });
      expect([toHex(onAir.advertisement), toHex(onAir.scanResponse)]).toEqual([i.advertisement, i.scanResponse]);
      expect(i.scanResponse.endsWith(i.serviceData)).toBe(true);
      expect(toHex(decodeAdvertisingServiceData(fromHex(i.serviceData))!)).toBe(i.id);
      const c = i.companyId;
      expect(toHex(deriveAdvertisingId(crypto, secret, i.epoch, c.id.length / 2))).toBe(c.id);
      const manufacturer = fromHex(c.advertisement).subarray(-(2 + c.id.length / 2));
      expect(toHex(advertisingIdIn({ manufacturerData: manufacturer }, { companyId: c.companyId })!)).toBe(c.id);
    }
  });

  it.each(PROVIDERS)('the private address: IRK, the refused all-0/all-1 draws, ah, resolution (%s)', (_n, crypto) => {
    const a = adv.privateAddress;
    const irk = deriveAddressIrk(crypto, fromHex(adv.advertisingSecret));
    expect(toHex(irk)).toBe(a.irk);
    const address = resolvablePrivateAddress(irk, scripted(a.prandDraws.join('')));
    expect(toHex(address)).toBe(a.address);
    expect(a.address).toBe(`${a.prand}${a.hash}`);
    expect(a.formatted.replaceAll(':', '')).toBe(a.address);
    expect(resolvesPrivateAddress(irk, address)).toBe(true);
    expect(resolvesPrivateAddress(fromHex(a.otherIrk), address)).toBe(false);
  });

  it('the info characteristic’s value', () => {
    expect(decodeGattInfo(fromHex(adv.info.value))).toEqual({
      framingVersion: adv.info.framingVersion,
      maxMessageSize: adv.info.maxMessageSize,
      protocolVersions: adv.info.protocolVersions,
    });
  });
});
