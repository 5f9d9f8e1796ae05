/**
 * Child side of the test bench's parent ⇄ role-process protocol (Node IPC):
 * parent → child `{ id, cmd, args }`; child → parent `{ id, ok, result | error }` and
 * `{ event, ... }`. A role process exits when its parent goes away, so nothing is orphaned.
 */
export interface RpcError {
  readonly name: string;
  readonly code?: string;
  readonly message: string;
}

export function toRpcError(err: unknown): RpcError {
  const e = err as { name?: string; code?: string; message?: string };
  return { name: e?.name ?? 'Error', ...(e?.code !== undefined && { code: e.code }), message: e?.message ?? String(err) };
}

export function emit(event: string, data: Record<string, unknown> = {}): void {
  process.send?.({ event, ...data });
}

type Handler = (args: any) => unknown;

/** Serve `handlers`; `onExit` runs (bounded) before the process exits on SIGTERM or parent loss. */
export function serve(handlers: Record<string, Handler>, onExit: () => Promise<void> | void): void {
  let exiting = false;
  const exit = async (code: number) => {
    if (exiting) return;
    exiting = true;
    const hard = setTimeout(() => process.exit(code), 3000);
    try {
      await onExit();
    } catch {
      /* exiting anyway */
    }
    clearTimeout(hard);
    process.exit(code);
  };
  process.on(
    'message',
    (msg: { id: number; cmd: string; args: unknown }) =>
      void (async () => {
        const h = handlers[msg.cmd];
        try {
          if (!h) throw new Error(`unknown command ${msg.cmd}`);
          const result = await h(msg.args);
          process.send?.({ id: msg.id, ok: true, result });
        } catch (err) {
          process.send?.({ id: msg.id, ok: false, error: toRpcError(err) });
        }
      })(),
  );
  process.on('SIGTERM', () => void exit(0));
  process.on('SIGINT', () => void exit(0));
  process.on('disconnect', () => void exit(0));
  process.on('unhandledRejection', (err) => {
    emit('log', { level: 'error', message: `unhandled rejection: ${toRpcError(err).message}` });
  });
}
