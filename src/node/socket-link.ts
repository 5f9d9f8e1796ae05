/**
 * `Link`s over Node sockets (unix or TCP) with the byte-stream binding (`StreamLink`:
 * `u16 length ‖ message`). For processes on one machine: the flood benchmark, a car under test,
 * another implementation driven by a conformance run.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { withDeadline } from '../transport/deadline.js';
import type { Link } from '../transport/link.js';
import { StreamLink } from '../transport/stream-link.js';

/** Wrap a connected socket. The link closes when the socket ends, errors or is closed. */
export function socketLink(socket: Socket): Link {
  const link = new StreamLink({
    write: (bytes) =>
      new Promise<void>((resolve, reject) => {
        socket.write(bytes, (err) => (err ? reject(err) : resolve()));
      }),
    end: () => socket.destroy(),
  });
  socket.on('data', (chunk: Buffer) => link.deliver(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
  socket.on('end', () => link.terminate('remote', 'stream ended'));
  socket.on('close', () => link.terminate('remote', 'socket closed'));
  socket.on('error', (e) => link.terminate('transport', e.message));
  socket.setNoDelay?.(true);
  return link;
}

/** Connect to a unix socket path (or `host:port`) and return the link, bounded by `timeoutMs`. */
export async function connectSocketLink(address: string, options: { readonly timeoutMs?: number } = {}): Promise<Link> {
  const tcp = /^(.*):(\d+)$/.exec(address);
  const socket = tcp ? connect({ host: tcp[1], port: Number(tcp[2]) }) : connect(address);
  const ready = new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  await withDeadline('connect', ready, { timeoutMs: options.timeoutMs ?? 5_000 }, () => socket.destroy());
  return socketLink(socket);
}

/** Listen on a unix socket path (or `host:port`); every connection becomes a link for `onLink`. */
export async function listenSocketLinks(address: string, onLink: (link: Link) => void): Promise<Server> {
  const server = createServer((socket) => onLink(socketLink(socket)));
  const tcp = /^(.*):(\d+)$/.exec(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (tcp) server.listen(Number(tcp[2]), tcp[1], resolve);
    else server.listen(address, resolve);
  });
  return server;
}
