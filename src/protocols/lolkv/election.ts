import type { Rng, Task } from '../../platform/index.js';
import { HB_BYTES, HB_COUNTER, HB_LEADER, HB_TERM } from './layout.js';
import { Mailbox } from './mailbox.js';
import { PREVOTE_REQ, PREVOTE_RESP, VOTE_REQ, VOTE_RESP, type VoteMessage, decodeVote, encodeVote } from './messages.js';
import { MONITOR_PORT } from './options.js';
import type { Replica } from './replica.js';

/**
 * The monitor thread every replica runs (docs/lolkv.md, "Leader failure and election").
 *
 *  - Follower: watches the heartbeat word the leader WRITEs; no progress for a randomized
 *    election timeout → a pre-vote. A heartbeat of a newer term teaches it that term (and so
 *    fences older leaders, see Replica.setTerm).
 *  - Pre-vote (Raft's PreVote): asks every replica whether it would vote for it in term + 1,
 *    changing no state; only with a majority of yeses does it start a real election. A replica
 *    cut off from the others thus never inflates its term and deposes a healthy leader when it
 *    comes back.
 *  - Candidate: term + 1, votes for itself, asks every replica over UD (resent every
 *    voteRetryNs); a majority → leader; a newer term → follower; timeout → a new pre-vote.
 *  - Voter: grants a vote for a newer term (or again to the same candidate) after revoking older
 *    leaders and persisting (term, votedFor). A replica that heard a live leader within the
 *    minimum election timeout (or leads with a majority) refuses votes and pre-votes.
 *  - Leader: steps down when a majority has not acknowledged its heartbeats for stepDownNs.
 */
export function* monitor(r: Replica): Task<void> {
  const cfg = r.cfg;
  const rt = r.p.rt;
  const rng: Rng = rt.rng('election');
  const box = new Mailbox(r.p, `${cfg.tracePrefix}.monitor`, MONITOR_PORT);
  yield* box.prime();
  const timeout = () => cfg.electionTimeoutMinNs + rng.int(Math.max(1, cfg.electionTimeoutMaxNs - cfg.electionTimeoutMinNs));
  let electionTimeout = timeout();
  let lastHbTerm = -1;
  let lastHbCounter = -1;
  let lastHbLeader = -1;
  // Pre-vote / candidate state.
  let phase: 'none' | 'pre' | 'real' = 'none';
  let preTerm = 0;
  let votes = new Set<number>();
  let deadline = 0;
  let lastSend = 0;
  // One heartbeat period: fine enough against election timeouts ≥ 30 heartbeats, and a monitor
  // that wakes less often costs the simulator fewer events.
  const tick = Math.max(500, cfg.heartbeatNs);

  const send = (to: number, m: VoteMessage) => box.send({ node: to, port: MONITOR_PORT }, encodeVote(m));
  const sticky = (now: number) =>
    (r.role === 'follower' && r.leaderHint >= 0 && now - r.lastProgressNs < cfg.electionTimeoutMinNs) || (r.role === 'leader' && r.leader !== null && r.leader.healthy(now));

  function* startPreVote(): Task<void> {
    phase = 'pre';
    preTerm = r.term + 1;
    votes = new Set([r.me]);
    electionTimeout = timeout();
    deadline = rt.now() + electionTimeout;
    yield* solicit();
    if (votes.size >= r.majority) yield* startElection();
  }

  function* startElection(): Task<void> {
    r.stepDown('election');
    phase = 'real';
    r.role = 'candidate';
    r.leaderHint = -1;
    yield* r.setTerm(r.term + 1, r.me);
    if (r.role !== 'candidate') return; // a newer term arrived meanwhile
    votes = new Set([r.me]);
    electionTimeout = timeout();
    deadline = rt.now() + electionTimeout;
    r.trace('elect-start', { term: r.term });
    yield* solicit();
    if (votes.size >= r.majority) win();
  }

  function win(): void {
    phase = 'none';
    r.becomeLeader();
  }

  function* solicit(): Task<void> {
    lastSend = rt.now();
    const type = phase === 'pre' ? PREVOTE_REQ : VOTE_REQ;
    const term = phase === 'pre' ? preTerm : r.term;
    for (const s of r.cluster.servers) if (s !== r.me && !votes.has(s)) yield* send(s, { type, term, from: r.me, granted: false });
  }

  function* onMessage(m: VoteMessage): Task<void> {
    const now = rt.now();
    switch (m.type) {
      case PREVOTE_REQ:
        yield* send(m.from, { type: PREVOTE_RESP, term: m.term, from: r.me, granted: m.term > r.term && !sticky(now) });
        return;
      case PREVOTE_RESP:
        if (phase === 'pre' && m.term === preTerm && m.granted && r.role === 'follower') {
          votes.add(m.from);
          if (votes.size >= r.majority) yield* startElection();
        }
        return;
      case VOTE_REQ: {
        let granted = false;
        if (m.term === r.term && r.votedFor === m.from) granted = true;
        else if (m.term > r.term && !sticky(now)) {
          r.stepDown('vote');
          phase = 'none';
          r.leaderHint = -1;
          yield* r.setTerm(m.term, m.from);
          r.lastProgressNs = rt.now();
          granted = true;
        }
        if (m.term >= r.term) r.trace('vote', { term: m.term, candidate: m.from, granted });
        yield* send(m.from, { type: VOTE_RESP, term: r.term, from: r.me, granted });
        return;
      }
      case VOTE_RESP:
        if (m.term > r.term) {
          phase = 'none';
          yield* r.adoptTerm(m.term, 'higher-term');
          return;
        }
        if (phase === 'real' && r.role === 'candidate' && m.term === r.term && m.granted) {
          votes.add(m.from);
          if (votes.size >= r.majority) win();
        }
        return;
    }
  }

  /** Reads the heartbeat word: progress from a leader of the current (or a newer) term. */
  function* watchHeartbeat(): Task<void> {
    // One read of the three words (the leader WRITEs them together).
    const hb = yield* r.hb.read(0, HB_BYTES);
    const dv = new DataView(hb.buffer, hb.byteOffset, HB_BYTES);
    const word = (o: number) => dv.getUint32(o, true) + dv.getUint32(o + 4, true) * 4294967296;
    const term = word(HB_TERM);
    const leader = word(HB_LEADER) - 1;
    const counter = word(HB_COUNTER);
    if (term === lastHbTerm && counter === lastHbCounter && leader === lastHbLeader) return;
    lastHbTerm = term;
    lastHbCounter = counter;
    lastHbLeader = leader;
    if (term < r.term || leader < 0 || leader === r.me) return;
    if (term > r.term) yield* r.adoptTerm(term, 'higher-term');
    if (term !== r.term) return;
    if (r.role === 'candidate') r.stepDown('leader-seen');
    if (r.role === 'follower') {
      phase = 'none';
      r.leaderHint = leader;
      r.lastProgressNs = rt.now();
    }
  }

  let nextTick = rt.now() + tick;
  for (;;) {
    // Always look at the mailbox (without blocking once the tick is due): a tick whose work takes
    // longer than the tick period must not starve vote messages.
    const raw = yield* box.receive(Math.max(0, nextTick - rt.now()));
    if (raw !== null) {
      const m = decodeVote(raw);
      if (m !== null && m.from !== r.me && r.cluster.servers.includes(m.from)) yield* onMessage(m);
      if (rt.now() < nextTick) continue;
    }
    nextTick = rt.now() + tick;
    yield* watchHeartbeat();
    const now = rt.now();
    if (r.role === 'leader') {
      phase = 'none';
      if (r.leader !== null && !r.leader.healthy(now)) {
        r.stepDown('lost-majority');
        electionTimeout = timeout();
      }
      continue;
    }
    if (r.role === 'candidate' && phase !== 'real') phase = 'real';
    if (phase === 'none') {
      if (now - r.lastProgressNs >= electionTimeout) yield* startPreVote();
    } else if (now >= deadline) {
      if (r.role === 'candidate') r.stepDown('election-timeout');
      yield* startPreVote();
    } else if (now - lastSend >= cfg.voteRetryNs) yield* solicit();
  }
}
