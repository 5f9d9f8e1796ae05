/**
 * The page side of the Web Bluetooth fake, as an init script: fake-bluetooth-page.ts bundled for
 * the browser (esbuild) and started with the page's configuration. See gatt-bridge.ts for the
 * Node side.
 */
import { build } from 'esbuild';

export interface FakeBluetoothConfig {
  /** `absent`: the page has no `navigator.bluetooth` at all (Firefox, Safari). */
  readonly mode: 'fake' | 'absent';
  readonly service: string;
  readonly write: string;
  readonly notify: string;
  readonly info: string;
}

/** What the Node side answers to every call: a value, or a DOMException to throw in the page. */
export type GattReply = { readonly value?: unknown } | { readonly error: { readonly name: string; readonly message: string } };

declare global {
  interface Window {
    __proxkeyGatt?: (op: string, arg: Record<string, unknown>) => Promise<GattReply>;
    __proxkeyFake?: { notify(id: string, bytes: number[]): void; disconnect(id: string): void };
  }
}

const PAGE = new URL('./fake-bluetooth-page.ts', import.meta.url).pathname;
let bundled: Promise<string> | undefined;

/** The init script that installs the fake with `config`. */
export async function fakeBluetoothScript(config: FakeBluetoothConfig): Promise<string> {
  bundled ??= build({
    entryPoints: [PAGE],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: '__proxkeyFakeBluetooth',
    write: false,
    logLevel: 'silent',
  }).then((r) => r.outputFiles[0]!.text);
  return `${await bundled}\n__proxkeyFakeBluetooth.install(${JSON.stringify(config)});`;
}
