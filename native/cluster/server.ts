/**
 * One replica of a native cluster in this process (`kvlab serve`): a NativeNode at the address the
 * cluster file gives it, its data directory (PM files + boot counter), and the protocol's server
 * module, unchanged. A status file (<node dir>/status.json: pid, boot, role) is rewritten every
 * 100 ms so tools (`kvlab crashtest`, `kvlab cluster status`) can see roles without a protocol.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROTOCOLS } from '../../src/protocols/registry.js';
import type { ServerHandle } from '../../src/protocols/protocol.js';
import { NativeNode } from '../adapter/node.js';
import { errorText } from '../adapter/scheduler.js';
import { type ClusterConfig, clusterInfo, clusterNodeOptions, nodeDataDir } from './config.js';

export interface ServerStatus {
  pid: number;
  node: number;
  boot: number;
  role: string;
  /** Wall-clock ms of the last update. */
  updatedMs: number;
}

export interface RunningServer {
  node: NativeNode;
  handle: ServerHandle;
  stop(): void;
}

export function statusFile(cfg: ClusterConfig, node: number): string {
  return join(nodeDataDir(cfg, node), 'status.json');
}

export function startServer(cfg: ClusterConfig, index: number, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): RunningServer {
  const proto = PROTOCOLS[cfg.protocol.name]!;
  const addr = cfg.servers[index]!;
  const node = new NativeNode(
    clusterNodeOptions(cfg, index, (p) => {
      log(`kvlab serve: node ${p.node}: thread ${p.thread} failed: ${errorText(p.error)}`);
      process.exit(1);
    }),
  );
  const handle = proto.server(node.platform, clusterInfo(cfg), cfg.options);
  const file = statusFile(cfg, index);
  const writeStatus = () => {
    const s: ServerStatus = { pid: process.pid, node: index, boot: node.bootCount, role: handle.role(), updatedMs: Date.now() };
    try {
      writeFileSync(`${file}.tmp`, `${JSON.stringify(s)}\n`);
      renameSync(`${file}.tmp`, file);
    } catch {
      // the directory went away (cluster down removing it): nothing to report to
    }
  };
  writeStatus();
  const timer = setInterval(writeStatus, 100);
  log(`kvlab serve: node ${index} boot ${node.bootCount} (${cfg.protocol.name}) at ${addr.host}:${addr.port}, provider ${node.info.provider}, persist ${cfg.persist}, data ${nodeDataDir(cfg, index)}, pid ${process.pid}`);
  return {
    node,
    handle,
    stop() {
      clearInterval(timer);
      node.shutdown();
    },
  };
}
