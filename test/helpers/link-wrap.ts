/** A view of a link with `send` and/or `receive` replaced (close state and the rest delegate to `inner`). */
import type { Link } from '../../src/index.js';

export function wrapLink(inner: Link, replace: Partial<Pick<Link, 'send' | 'receive'>>): Link {
  return {
    send: replace.send ?? ((m, o) => inner.send(m, o)),
    receive: replace.receive ?? ((o) => inner.receive(o)),
    close: (r) => inner.close(r),
    get closed() {
      return inner.closed;
    },
    get isClosed() {
      return inner.isClosed;
    },
  };
}
