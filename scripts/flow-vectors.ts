/**
 * The published flows (test/vectors/flow-*.json): pairing on the MCU and the default scrypt
 * profile, pairing refusals (one per ALERT the car sends in pairing), grant issuance and
 * redemption (one grant signed high-S), and the administrative commands (list-keys over two
 * pages, a custom command with args and data, revoke, advertising-secret). Each flow starts from
 * a fresh car; see scripts/flow.ts for how they are recorded and test/vectors/README.md for the
 * fields.
 */
import { fromHex, toHex, utf8 } from '../src/bytes.js';
import {
  computeVerifierRecord,
  decodeGrant,
  decodeKeyList,
  deriveSpake2PlusSecrets,
  keyIdOf,
  MessageType,
  nobleCrypto,
  softwareKey,
  reasonEndsSession,
  type CommandInput,
  type DenyReason,
  type CryptoProvider,
  type Link,
} from '../src/index.js';
import { decodeMessages, sessionKeys } from '../src/cli/decode.js';
import { encodePairing } from '../src/protocol/pairing.js';
import { Flow, FLOW_CLOCK_MS, isHighS, jsonable, type FlowConnection, type FlowLocalAction } from './flow.js';

export interface FlowVector {
  readonly name: string;
  readonly description: string;
  readonly clockMs: number;
  readonly car: { readonly name: string; readonly staticPublic: string; readonly advertisingSecret: string };
  /** Each phone's label (what it tells the car at pairing and in key requests) and static public key. */
  readonly phones: Record<string, { readonly label: string; readonly staticPublic: string }>;
  /** Every party's random draws in order (hex): seed a replay with them. */
  readonly random: Record<string, string[]>;
  readonly localActions: readonly FlowLocalAction[];
  readonly connections: readonly FlowConnection[];
  /** Values derived outside the wire (pairing secrets, grants, shares) for checking an implementation step by step. */
  readonly artifacts: Record<string, unknown>;
}

const MCU_SCRYPT = { log2N: 8, r: 1, p: 1 } as const; // 128·r·N = 32 KiB, the smallest PAIRING_SCRYPT_BOUNDS allow
const DEFAULT_SCRYPT = { log2N: 15, r: 8, p: 1 } as const; // 32 MiB
const WAIT = { timeoutMs: 5_000 };

/** `command` on a new connection, then more commands, then close; results are recorded as actions. */
async function session(flow: Flow, name: string, phone: string, commands: readonly CommandInput[], options: { intent?: boolean } = {}) {
  return flow.connect(name, phone, async (link) => {
    const [first, ...rest] = commands;
    const wallet = flow.phone(phone);
    flow.act(phone, 'command', { command: first, intent: options.intent === true });
    const { result, connection } = await wallet.open(link, first!, { ...WAIT, ...(options.intent && { intent: true }) });
    flow.act(phone, 'result', { status: result.status, data: result.data });
    // A denial that ends the session is followed by the car's CLOSE: read it, send nothing more (§6).
    // (A revoke's own outcome, e.g. unknown-key for an unknown id, is not a denial: §3.3.)
    let command = first!;
    const ended = (status: string) => status !== 'ok' && reasonEndsSession(status as DenyReason) && !(typeof command === 'object' && command.kind === 'revoke');
    let last = result.status;
    for (const c of rest) {
      if (ended(last)) break;
      command = c;
      flow.act(phone, 'command', { command: c, intent: false });
      const r = await connection.send(c);
      last = r.status;
      flow.act(phone, 'result', { status: r.status, data: r.data });
    }
    if (ended(last)) {
      flow.act(phone, 'await-close');
      await connection.awaitClose(WAIT);
      return;
    }
    flow.act(phone, 'close');
    await connection.close();
  });
}

async function pair(flow: Flow, name: string, phone: string, code: string) {
  return flow.connect(name, phone, async (link) => {
    flow.act(phone, 'pair', { code });
    try {
      await flow.phone(phone).pair(link, code, WAIT);
      flow.act(phone, 'paired');
    } catch (e) {
      flow.act(phone, 'pairing-refused', { error: e instanceof Error ? `${(e as { code?: string }).code ?? e.name}: ${e.message}` : String(e) });
    }
  });
}

async function openPairing(flow: Flow, scrypt: { log2N: number; r: number; p: number }) {
  const { code } = await flow.carAction({ action: 'open-pairing', scrypt });
  return code as string;
}

async function newFlow(crypto: CryptoProvider) {
  const flow = new Flow(crypto);
  await flow.openCar();
  return flow;
}

function vector(flow: Flow, name: string, description: string, artifacts: Record<string, unknown> = {}): FlowVector {
  return {
    name,
    description,
    clockMs: FLOW_CLOCK_MS,
    car: { name: flow.car.name, staticPublic: toHex(flow.car.identity.publicKey), advertisingSecret: flow.initialAdvertisingSecret },
    phones: flow.phoneInfo(),
    random: flow.draws(),
    localActions: flow.local,
    connections: flow.connections,
    artifacts: jsonable(artifacts) as Record<string, unknown>,
  };
}

/** The owner shares the car with `friend` (grant signed high-S if asked); the friend stores the share. Both are recorded. */
async function shareTo(flow: Flow, owner: string, friend: string, highS: boolean, options: { permissions?: string[]; notAfter?: number }) {
  const keyRequest = flow.phone(friend).keyRequest();
  flow.highS = highS;
  const { share, grantId } = await flow.phone(owner).share(keyRequest, options);
  flow.highS = false;
  flow.note(owner, 'share', { keyRequest, ...options, highS, share, grantId });
  const accepted = await flow.phone(friend).acceptShare(share);
  flow.note(friend, 'accept-share', { share });
  return { keyRequest, share, grant: accepted.grant! };
}

/** w0, w1 (scrypt of the code) and L = w1·G, as the car's PairingMode derives them. */
function pairingSecrets(code: string, saltHex: string, scrypt: { log2N: number; r: number; p: number }) {
  const secrets = deriveSpake2PlusSecrets({
    password: utf8(code),
    salt: fromHex(saltHex),
    idProver: new Uint8Array(0),
    idVerifier: new Uint8Array(0),
    scrypt: { N: 2 ** scrypt.log2N, r: scrypt.r, p: scrypt.p },
  });
  return { w0: secrets.w0, w1: secrets.w1, L: computeVerifierRecord(secrets).L };
}

/** The salt is in PAIR_PARAMS (type 0x21, salt length, salt, log2N, r, p). */
const saltOf = (c: FlowConnection) => {
  const params = c.messages.find((m) => m.hex.startsWith('21'))!.hex;
  return params.slice(4, 4 + 2 * parseInt(params.slice(2, 4), 16));
};

async function pairingFlow(crypto: CryptoProvider, name: string, scrypt: { log2N: number; r: number; p: number }, description: string): Promise<FlowVector> {
  const flow = await newFlow(crypto);
  await flow.openPhone('owner', 'owner phone');
  const code = await openPairing(flow, scrypt);
  const paired = await pair(flow, 'pairing', 'owner', code);
  await session(flow, 'first unlock', 'owner', ['unlock']);
  return vector(flow, name, description, { code, scrypt, memoryBytes: 128 * scrypt.r * 2 ** scrypt.log2N, ...pairingSecrets(code, saltOf(paired), scrypt) });
}

/** Send raw messages as a phone would, reading what the car answers in between. */
async function raw(
  flow: Flow,
  name: string,
  phone: string,
  script: (send: (hex: string, what: string) => Promise<void>, read: () => Promise<Uint8Array>) => Promise<void>,
) {
  return flow.connect(name, phone, async (link: Link) => {
    const read = () => link.receive({ timeoutMs: 5_000 });
    await read(); // the CHALLENGE
    await script(async (hex, what) => {
      flow.act(phone, 'send', { what });
      await link.send(fromHex(hex));
    }, read);
    await link.closed;
  });
}

async function pairingRefusals(crypto: CryptoProvider): Promise<FlowVector> {
  const flow = await newFlow(crypto);
  const owner = await flow.openPhone('owner', 'owner phone');
  await flow.openPhone('stranger', 'stranger phone');
  const start = toHex(encodePairing({ type: MessageType.PairStart, version: 1 }));
  await pair(flow, 'pairing-closed: the car is not in pairing mode', 'owner', '12345678');
  let code = await openPairing(flow, MCU_SCRYPT);
  await raw(flow, 'unsupported: pairing version 2', 'stranger', (send) =>
    send(toHex(encodePairing({ type: MessageType.PairStart, version: 2 })), 'PAIR_START version 2'),
  );
  await raw(flow, 'malformed: PAIR_SHARE with a point off the curve', 'stranger', async (send, read) => {
    await send(start, 'PAIR_START');
    await read();
    await send(`22${'04'}${'00'.repeat(63)}01`, 'PAIR_SHARE with 04 ‖ (0, 1): not on P-256');
  });
  await raw(flow, 'pairing-failed: a PAIR_CONFIRM with a wrong confirmP', 'stranger', async (send, read) => {
    await send(start, 'PAIR_START');
    await read();
    const share = (await softwareKey(crypto, fromHex('55'.repeat(32)))).publicKey; // any valid point: not derived from the code
    await send(`22${toHex(share)}`, 'PAIR_SHARE (a valid point)');
    await read(); // PAIR_RESPONSE: one attempt consumed
    await send(`24${'00'.repeat(32)}${'00'.repeat(33)}`, 'PAIR_CONFIRM with confirmP = 0³² and 33 sealed bytes');
  });
  const wrong = code === '00000000' ? '00000001' : '00000000';
  await pair(flow, 'phone: wrong code (the phone sends ALERT(pairing-failed))', 'owner', wrong);
  await flow.carAction({ action: 'fail-next-save' });
  await pair(flow, 'internal-error: the enrollment cannot be saved', 'owner', code);
  await flow.carAction({ action: 'close-pairing' });
  // a phone key revoked before may not pair again
  await flow.carAction({ action: 'enroll', publicKey: toHex(owner.identity.publicKey), role: 'owner', label: 'owner phone' });
  await flow.carAction({ action: 'enroll', publicKey: toHex(flow.phone('stranger').identity.publicKey), role: 'owner', label: 'second owner' });
  await flow.carAction({ action: 'revoke', keyId: keyIdOf(crypto, owner.identity.publicKey) });
  code = await openPairing(flow, MCU_SCRYPT);
  await pair(flow, 'revoked: a revoked phone key pairs again', 'owner', code);
  return vector(
    flow,
    'pairing-refusals',
    'Every ALERT the car sends during pairing (pairing-closed, unsupported, malformed, pairing-failed, internal-error, revoked), and the phone’s own ALERT(pairing-failed) on a wrong code.',
  );
}

async function grantFlow(crypto: CryptoProvider): Promise<FlowVector> {
  const flow = await newFlow(crypto);
  const owner = await flow.openPhone('owner', 'owner phone');
  await flow.openPhone('friend', 'friend phone');
  await flow.openPhone('friend2', 'second friend');
  await pair(flow, 'pairing (setup)', 'owner', await openPairing(flow, MCU_SCRYPT));
  const issue = async (friend: string, highS: boolean, options: { permissions?: string[]; notAfter?: number }) => {
    const { keyRequest, share, grant } = await shareTo(flow, 'owner', friend, highS, options);
    const decoded = decodeGrant(grant);
    return { keyRequest, share, grant: toHex(grant), signatureHighS: isHighS(decoded.signature), fields: decoded };
  };
  const first = await issue('friend', false, { permissions: ['unlock', 'lock'], notAfter: FLOW_CLOCK_MS + 86_400_000 });
  await session(flow, 'redemption: first unlock presents the grant', 'friend', ['unlock', 'lock']);
  await session(flow, 'after redemption: no grant presented', 'friend', ['unlock']);
  const second = await issue('friend2', true, { permissions: ['unlock'] });
  await session(flow, 'redemption of a high-S grant', 'friend2', ['unlock']);
  await session(flow, 'a redeemed grant gives only its permissions', 'friend2', ['lock']);
  return vector(
    flow,
    'grant',
    'Grant issuance (key request, owner-signed grant, sealed share) and redemption in the first handshake; the second grant’s signature is high-S (s > n/2), which every car must accept.',
    {
      ownerPublic: owner.identity.publicKey,
      grants: [first, second],
    },
  );
}

async function adminFlow(crypto: CryptoProvider): Promise<FlowVector> {
  const flow = await newFlow(crypto);
  await flow.openPhone('owner', 'owner phone');
  const friend = await flow.openPhone('friend', 'friend phone');
  await pair(flow, 'pairing (setup)', 'owner', await openPairing(flow, MCU_SCRYPT));
  // 23 more keys, enrolled locally: 25 with the owner and the friend, so list-keys has two pages
  for (let i = 0; i < 23; i++) {
    const key = (await softwareKey(crypto, crypto.sha256(utf8(`proxkey vectors key ${i}`)))).publicKey;
    await flow.carAction({ action: 'enroll', publicKey: toHex(key), role: 'shared', label: `key ${i}`, permissions: ['unlock'] });
  }
  await flow.carAction({ action: 'enroll', publicKey: toHex(friend.identity.publicKey), role: 'shared', label: 'friend', permissions: ['unlock', 'lock'] });
  // the friend has the car (a share gives it the car's key and secret; no grant needed: enrolled locally)
  await shareTo(flow, 'owner', 'friend', false, { permissions: ['unlock', 'lock'] }); // enrolled already: the car ignores the grant it presents
  const lists = await session(flow, 'list-keys, pages 0 and 1', 'owner', [{ kind: 'list-keys' }, { kind: 'list-keys', page: 1 }]);
  await session(flow, 'custom command 0x81 with args and result data', 'owner', [{ kind: 'custom', code: 0x81, args: utf8('window 2 down') }]);
  const friendId = keyIdOf(crypto, friend.identity.publicKey);
  await session(flow, 'advertising-secret (a shared key, no permission needed)', 'friend', [{ kind: 'advertising-secret' }]);
  await session(flow, 'revoke the friend, then fetch the new advertising secret', 'owner', [
    { kind: 'revoke', target: friendId },
    { kind: 'advertising-secret' },
  ]);
  await session(flow, 'revoke of an unknown key id: RESULT(unknown-key), session open', 'owner', [
    { kind: 'revoke', target: '00'.repeat(8) },
    { kind: 'unlock' },
  ]);
  await session(flow, 'the revoked friend', 'friend', ['unlock']);
  const results = lists.actions.filter((a) => a.action === 'result').map((a) => decodeKeyList(fromHex(a.data as string)));
  return vector(
    flow,
    'admin',
    'Administrative commands of an owner: list-keys over two pages (25 keys), a custom command with args and result data, revoke (and the new advertising secret in the same session), revoke of an unknown id; advertising-secret from a shared key; the revoked key refused.',
    {
      keyLists: results,
    },
  );
}

/** Every flow, in file order. */
export async function buildFlows(crypto: CryptoProvider = nobleCrypto): Promise<FlowVector[]> {
  return [
    await pairingFlow(
      crypto,
      'pairing-mcu',
      MCU_SCRYPT,
      'Owner pairing with the smallest scrypt profile phones accept (log2N 8, r 1, p 1: 32 KiB, for a car on a microcontroller), then the owner’s first unlock.',
    ),
    await pairingFlow(
      crypto,
      'pairing-default',
      DEFAULT_SCRYPT,
      'Owner pairing with the default scrypt profile (log2N 15, r 8, p 1: 32 MiB), then the owner’s first unlock.',
    ),
    await pairingRefusals(crypto),
    await grantFlow(crypto),
    await adminFlow(crypto),
  ];
}

/** Decoded view of a flow's records, for checks: the bodies of each connection with its intermediates. */
export async function decodedRecords(c: FlowConnection) {
  if (!c.intermediates) return [];
  return decodeMessages(
    c.messages.map((m) => fromHex(m.hex)),
    sessionKeys(c.intermediates),
  );
}
