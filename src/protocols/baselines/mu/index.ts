import type { ProtocolModule } from '../../protocol.js';
import { LolkvClient } from '../../lolkv/client.js';
import { type MuOptions, muOptions } from './options.js';
import { startMuServer } from './server.js';

/**
 * The Mu / uKharon-style log-based baseline: every PUT goes through one log (a single tail shared
 * by all threads) and one RDMA WRITE per follower over a single shared QP; follower CPUs apply the
 * log in order. Same election, fencing and state sync as LoLKV. Design: docs/lolkv.md, "Baseline".
 */
export const muProtocol: ProtocolModule<MuOptions> = {
  name: 'mu',
  summary: 'Baseline: Mu-style log replication (one shared log and QP per follower, followers apply), LoLKV election',
  options: muOptions,
  server(p, cluster, opts) {
    return startMuServer(p, cluster, opts);
  },
  client(p, cluster, opts, clientId) {
    return new LolkvClient(p, cluster, opts, clientId, 'mu');
  },
};
