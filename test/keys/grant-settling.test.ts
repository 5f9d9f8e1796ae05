/**
 * A friend's phone keeps presenting its grant until an answer settles it (PROTOCOL.md §3.3): a
 * command the car does not know is answered before the grant is looked at, so the grant stays.
 */
import { describe, expect, it, vi } from 'vitest';

// A newer phone sending a standard command code an older car does not know: custom 0xfe is
// rewritten to the reserved code 0x07 on the wire (kind 0x10: a COMMAND).
vi.mock('../../src/protocol/messages.js', async (original) => {
  const m = await original<typeof import('../../src/protocol/messages.js')>();
  return {
    ...m,
    encodeBody: (body: Parameters<typeof m.encodeBody>[0]) => {
      const out = m.encodeBody(body);
      if (body.kind === 0x10 && body.command.kind === 'custom' && body.command.code === 0xfe) out[1] = 0x07;
      return out;
    },
  };
});

import { createMemoryLinkPair, deterministicRandom, MemoryPhoneStore, MemoryVehicleStore, PhoneWallet, VehicleService, type Link } from '../../src/index.js';
import { FAST_SCRYPT } from '../helpers/scrypt.js';

describe('grant settling', () => {
  it('unknown-command on a friend’s first command keeps the grant: its next command still enrolls it', async () => {
    const car = await VehicleService.open({
      store: new MemoryVehicleStore(),
      random: deterministicRandom('settle-car'),
      name: 'Car',
      actuator: () => undefined,
    });
    const run = async <T>(f: (link: Link) => Promise<T>) => {
      const [phoneLink, carLink] = createMemoryLinkPair();
      const served = car.serve(carLink);
      const r = await f(phoneLink);
      await served;
      return r;
    };
    const owner = await PhoneWallet.open({ store: new MemoryPhoneStore(), label: 'owner' });
    const { code } = await car.openPairing({ scrypt: FAST_SCRYPT });
    await run((link) => owner.pair(link, code));
    const friend = await PhoneWallet.open({ store: new MemoryPhoneStore(), label: 'friend' });
    await friend.acceptShare((await owner.share(friend.keyRequest())).share);
    const first = await run((link) => friend.command(link, { kind: 'custom', code: 0xfe }));
    expect(first.status).toBe('unknown-command');
    expect(friend.car().grant).toBeDefined();
    expect((await run((link) => friend.command(link, 'unlock'))).status).toBe('ok');
    expect(friend.car().grant).toBeUndefined(); // settled by the ok
  });
});
