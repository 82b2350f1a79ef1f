import type { ProtocolModule } from './protocol.js';
import { registerProtocol } from './register/index.js';
import { lolkvProtocol } from './lolkv/index.js';
import { muProtocol } from './baselines/mu/index.js';
import { rowanKvProtocol } from './rowan/kv/index.js';
import { rowanKvBatchProtocol, rowanKvRpcProtocol, rowanKvWriteProtocol } from './baselines/index.js';

/** Every protocol a scenario may name. */
export const PROTOCOLS: Record<string, ProtocolModule<any>> = {
  [registerProtocol.name]: registerProtocol,
  [lolkvProtocol.name]: lolkvProtocol,
  [muProtocol.name]: muProtocol,
  [rowanKvProtocol.name]: rowanKvProtocol,
  [rowanKvRpcProtocol.name]: rowanKvRpcProtocol,
  [rowanKvWriteProtocol.name]: rowanKvWriteProtocol,
  [rowanKvBatchProtocol.name]: rowanKvBatchProtocol,
};

export function protocolNames(): string[] {
  return Object.keys(PROTOCOLS);
}
