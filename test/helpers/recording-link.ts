/**
 * An in-memory link pair that records every whole message either side sends, in send order, so
 * tests and the bench count what a transaction actually put on the wire (messages, bytes, round
 * trips) instead of writing constants.
 */
import { createMemoryLinkPair, type Link, type MemoryLinkOptions } from '../../src/index.js';
import { wrapLink } from './link-wrap.js';

export interface WireMessage {
  readonly from: 'phone' | 'vehicle';
  readonly bytes: Uint8Array;
}

/** `inner`, recording a copy of every message it sends. */
function recordingLink(inner: Link, record: (bytes: Uint8Array) => void): Link {
  return wrapLink(inner, {
    send: (message, options) => {
      record(message.slice());
      return inner.send(message, options);
    },
  });
}

/** A memory link pair (phone side, vehicle side) and the log of everything sent on it. */
export function recordingLinkPair(options?: MemoryLinkOptions): { phone: Link; vehicle: Link; wire: WireMessage[] } {
  const [phone, vehicle] = createMemoryLinkPair(options);
  const wire: WireMessage[] = [];
  return {
    phone: recordingLink(phone, (bytes) => wire.push({ from: 'phone', bytes })),
    vehicle: recordingLink(vehicle, (bytes) => wire.push({ from: 'vehicle', bytes })),
    wire,
  };
}

/**
 * What a transaction cost on the wire. A round trip is a phone message the vehicle answered (the
 * next message on the wire is the vehicle's); the vehicle's opening challenge, pushed on
 * subscription, and a phone's final close are not round trips.
 */
/** What one exchange put on the wire: round trips (a phone message answered by the vehicle), messages, bytes. */
export interface WireSummary {
  readonly roundTrips: number;
  readonly messages: number;
  readonly bytes: number;
  readonly perMessage: number[];
}

export function wireSummary(wire: readonly WireMessage[]): WireSummary {
  let roundTrips = 0;
  for (let i = 0; i + 1 < wire.length; i++) if (wire[i]!.from === 'phone' && wire[i + 1]!.from === 'vehicle') roundTrips++;
  const perMessage = wire.map((m) => m.bytes.length);
  return { roundTrips, messages: wire.length, bytes: perMessage.reduce((a, b) => a + b, 0), perMessage };
}
