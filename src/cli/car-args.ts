/** The car commands' arguments, merged with the configuration file (arguments win). */
import { LocalError } from '../errors.js';
import { loadCarConfig, type CarConfig } from './config.js';

export interface CarArgs {
  readonly dir?: string;
  readonly config?: string;
  readonly name?: string;
  readonly pair?: boolean;
  readonly hci?: number;
  readonly uart?: string;
  readonly scryptLog2N?: number;
}

export function resolveConfig(a: CarArgs): CarConfig & { stateDir: string } {
  const file = a.config ? loadCarConfig(a.config) : {};
  const stateDir = a.dir ?? file.stateDir;
  if (!stateDir) throw new LocalError('ERR_INVALID_ARGUMENT', 'the car needs a state directory: --dir <dir> (or stateDir in --config)');
  const bluetooth = a.uart ? { uart: a.uart } : a.hci !== undefined ? { hci: a.hci } : file.bluetooth;
  return { ...file, stateDir, ...(a.name && { name: a.name }), ...(bluetooth && { bluetooth }) };
}
