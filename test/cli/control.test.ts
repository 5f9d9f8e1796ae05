/** The car's control socket: one request line per connection, answered exactly once; an over-long line is refused. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { controlPath, serveControl, type ControlRequest } from '../../src/cli/control.js';

const dir = mkdtempSync(join(tmpdir(), 'proxkey-control-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Connect, write `chunks` (20 ms apart), and collect everything the daemon sends until it ends the connection. */
function converse(chunks: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection(controlPath(dir));
    let answer = '';
    s.on('data', (d) => (answer += d.toString()));
    s.on('end', () => (s.end(), resolve(answer)));
    s.on('error', reject);
    const send = async () => {
      for (const c of chunks) {
        if (s.writable) s.write(c);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    s.on('connect', () => void send());
  });
}

describe('control socket', () => {
  it('answers a request exactly once, whatever the client sends after its line', async () => {
    const calls: ControlRequest[] = [];
    const server = serveControl(dir, async (req) => {
      calls.push(req);
      await new Promise((r) => setTimeout(r, 100));
      return { done: calls.length };
    });
    await new Promise((r) => server.once('listening', r));
    try {
      const answer = await converse(['{"op":"revoke","target":"0011223344556677"}\n', ' ', '{"op":"pair"}\n', ' ']);
      expect(calls).toEqual([{ op: 'revoke', target: '0011223344556677' }]);
      expect(answer).toBe('{"ok":true,"done":1}\n');
    } finally {
      server.close();
    }
  });

  it('refuses a line longer than 4 096 characters without calling the handler', async () => {
    let calls = 0;
    const server = serveControl(dir, async () => (calls++, {}));
    await new Promise((r) => server.once('listening', r));
    try {
      const answer = await converse(['{"op":"keys","pad":"', 'x'.repeat(5_000), '"}\n']);
      expect(JSON.parse(answer)).toEqual({ ok: false, error: 'request longer than 4096 characters', code: 'ERR_INVALID_ARGUMENT' });
      expect(calls).toBe(0);
    } finally {
      server.close();
    }
  });
});
