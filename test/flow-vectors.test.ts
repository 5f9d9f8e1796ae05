/**
 * The service flows (test/vectors/flow-*.json): the car side and every wallet replay byte for
 * byte on every provider, Noise intermediates included, from the other side's recorded messages,
 * their random draws and their recorded actions; and each flow holds
 * what it claims (scrypt profiles, every pairing ALERT, the high-S grant, two list-keys pages,
 * custom data, the new advertising secret after a revoke, nobody sending after a CLOSE).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from '../src/bytes.js';
import { decodeGrant, decodeKeyList, reasonFromCode, scryptWithinBounds, verifyGrantSignature, type KeyList } from '../src/index.js';
import type { FlowVector } from '../scripts/flow-vectors.js';
import { decodedRecords } from '../scripts/flow-vectors.js';
import { replayCar, replayPhones } from '../scripts/flow-replay.js';
import { customAnswer, isHighS } from '../scripts/flow.js';
import { differingLeaves } from '../scripts/noise-intermediates.js';
import { PROVIDERS } from './crypto/providers.js';

const dir = new URL('./vectors/', import.meta.url);
const flows = new Map<string, FlowVector>(
  readdirSync(dir)
    .filter((f) => /^flow-.*\.json$/.test(f))
    .map((f) => [f.slice(5, -5), JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as FlowVector]),
);
const flow = (name: string) => flows.get(name)!;
const carMessages = (v: FlowVector) => v.connections.map((c) => c.messages.filter((m) => m.from === 'vehicle').map((m) => m.hex));
const alerts = (v: FlowVector, from: 'vehicle' | 'phone') =>
  v.connections.flatMap((c) => c.messages.filter((m) => m.from === from && m.hex.startsWith('0f')).map((m) => reasonFromCode(parseInt(m.hex.slice(2), 16))));

describe('service flows', () => {
  it('are all there', () => {
    expect([...flows.keys()].sort()).toEqual(['admin', 'grant', 'pairing-default', 'pairing-mcu', 'pairing-refusals']);
  });

  describe.each([...flows.keys()].flatMap((name) => PROVIDERS.map(([p, crypto]) => [name, p, crypto] as const)))('flow-%s.json on %s', (name, _p, crypto) => {
    it('the car replays every message it sent and every Noise intermediate, from the recorded phone messages, draws and local actions', async () => {
      const replay = await replayCar(flow(name), crypto);
      expect(replay.sent).toEqual(carMessages(flow(name)));
      flow(name).connections.forEach((c, i) => expect(differingLeaves(c.intermediates, replay.intermediates[i]), c.name).toEqual([]));
    }, 30_000);

    it('every wallet replays every message it sent and every Noise intermediate, from the recorded car messages, draws and actions', async () => {
      const v = flow(name);
      const replay = await replayPhones(v, crypto);
      v.connections.forEach((c, i) => {
        if (replay.sent[i] === undefined)
          return expect(
            c.actions.some((a) => a.action === 'send'),
            c.name,
          ).toBe(true); // a raw scripted phone
        expect(replay.sent[i], c.name).toEqual(c.messages.filter((m) => m.from === 'phone').map((m) => m.hex));
        expect(differingLeaves(c.intermediates, replay.intermediates[i]), c.name).toEqual([]);
      });
    }, 30_000);
  });

  it('the car replay notices a changed phone message', async () => {
    const v = structuredClone(flow('pairing-mcu'));
    const m = v.connections[1]!.messages[1]!; // the first unlock's HANDSHAKE
    (m as { hex: string }).hex = `${m.hex.slice(0, -2)}${m.hex.endsWith('00') ? '01' : '00'}`;
    const { sent } = await replayCar(v);
    expect(sent[1]).not.toEqual(carMessages(v)[1]);
    expect(sent[1]![1]).toBe('0f0b'); // ALERT(malformed) instead of the RESULT
  });

  describe.each([...flows.keys()])('flow-%s.json', (name) => {
    it('every handshake has its intermediates, every record opens with them, and nobody sends after the peer’s CLOSE or ALERT', async () => {
      for (const c of flow(name).connections) {
        const handshakes = c.messages.filter((m) => m.from === 'phone' && m.hex.startsWith('02'));
        expect(c.intermediates !== undefined, c.name).toBe(handshakes.length === 1 && c.messages.some((m) => m.hex.startsWith('03')));
        const decoded = await decodedRecords(c);
        const ends = c.messages.flatMap((m, i) => {
          const body = decoded[i]?.body as { kind?: number } | string | undefined;
          if (typeof body === 'string') throw new Error(`${c.name}: message ${i}: ${body}`);
          return m.hex.startsWith('0f') || body?.kind === 0x12 ? [{ i, from: m.from }] : [];
        });
        const first = ends[0];
        if (first)
          expect(
            c.messages.slice(first.i + 1).filter((m) => m.from !== first.from),
            c.name,
          ).toEqual([]);
      }
    });
  });

  it.each([
    ['pairing-mcu', 8, 1, 1],
    ['pairing-default', 15, 8, 1],
  ])('%s: PAIR_PARAMS carries log2N %i, r %i, p %i (within PAIRING_SCRYPT_BOUNDS), and the artifacts hold w0, w1, L', (name, log2N, r, p) => {
    const v = flow(name);
    const params = v.connections[0]!.messages.find((m) => m.hex.startsWith('21'))!.hex;
    expect(params.slice(-6)).toBe([log2N, r, p].map((x) => x.toString(16).padStart(2, '0')).join(''));
    expect(scryptWithinBounds(log2N, r, p)).toBe(true);
    expect(v.artifacts).toMatchObject({ scrypt: { log2N, r, p }, memoryBytes: 128 * r * 2 ** log2N });
    expect([v.artifacts.w0, v.artifacts.w1, v.artifacts.L].map((x) => String(x).length)).toEqual([64, 64, 130]);
    expect(v.connections[1]!.messages.map((m) => m.hex.slice(0, 2))).toEqual(['01', '02', '03', '03']);
  });

  it('pairing-refusals: the car sends every pairing ALERT, the phone its own pairing-failed', () => {
    const v = flow('pairing-refusals');
    expect(new Set(alerts(v, 'vehicle'))).toEqual(new Set(['pairing-closed', 'unsupported', 'malformed', 'pairing-failed', 'internal-error', 'revoked']));
    expect(alerts(v, 'phone')).toEqual(['pairing-failed']);
  });

  it('grant: the second grant is signed high-S, both redeem, and each rides in its first handshake', async () => {
    const v = flow('grant');
    const grants = v.artifacts.grants as { grant: string; signatureHighS: boolean }[];
    expect(grants.map((g) => [g.signatureHighS, isHighS(decodeGrant(fromHex(g.grant)).signature)])).toEqual([
      [false, false],
      [true, true],
    ]);
    const redemptions = v.connections.filter((c) => c.name.startsWith('redemption'));
    expect(redemptions.map((c) => c.actions.find((a) => a.action === 'result')!.status)).toEqual(['ok', 'ok']);
    redemptions.forEach((c, i) => expect(c.intermediates!.tokens.at(-1)!.plaintext).toContain(grants[i]!.grant));
    const owner = fromHex(v.artifacts.ownerPublic as string);
    for (const [, crypto] of PROVIDERS) for (const g of grants) expect(await verifyGrantSignature(crypto, decodeGrant(fromHex(g.grant)), owner)).toBe(true);
  });

  it('admin: list-keys over two pages, custom data, the new advertising secret after revoke, revoke of an unknown id keeps the session', () => {
    const v = flow('admin');
    const lists = v.artifacts.keyLists as KeyList[];
    expect(lists.map((l) => [l.total, l.page, l.entries.length])).toEqual([
      [25, 0, 23],
      [25, 1, 2],
    ]);
    const results = (name: string) => v.connections.find((c) => c.name.startsWith(name))!.actions.filter((a) => a.action === 'result');
    expect(decodeKeyList(fromHex(results('list-keys')[1]!.data as string)).entries).toHaveLength(2);
    expect(results('custom')[0]!.data).toBe(toHex(customAnswer(utf8('window 2 down'))));
    const before = results('advertising-secret')[0]!.data;
    const after = results('revoke the friend')[1]!.data;
    expect([before, after].map((s) => String(s).length)).toEqual([64, 64]);
    expect(before).toBe(v.car.advertisingSecret);
    expect(after).not.toBe(before);
    expect(results('revoke of an unknown').map((a) => a.status)).toEqual(['unknown-key', 'ok']);
    expect(results('the revoked friend').map((a) => a.status)).toEqual(['revoked']);
  });
});
