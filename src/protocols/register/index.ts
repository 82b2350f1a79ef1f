import type { ProtocolModule } from '../protocol.js';
import { startBackup } from './backup.js';
import { RegisterClient } from './client.js';
import { type RegisterOptions, registerOptions } from './options.js';
import { startPrimary } from './primary.js';

/**
 * The example protocol: a primary-backup store of registers that exercises every fabric and PM
 * feature of the platform. Node 0 is the primary; every other server is a backup.
 */
export const registerProtocol: ProtocolModule<RegisterOptions> = {
  name: 'register',
  summary: 'Example: primary-backup registers over RDMA WRITE/READ/CAS, SEND into a multi-packet SRQ, persisted PM log',
  options: registerOptions,
  server(p, cluster, opts) {
    return p.rt.nodeId === cluster.servers[0] ? startPrimary(p, cluster, opts) : startBackup(p, opts);
  },
  client(p, cluster, opts, clientId) {
    return new RegisterClient(p, cluster, opts, clientId);
  },
};
