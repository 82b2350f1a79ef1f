------------------------------ MODULE RowanKV ------------------------------
(***************************************************************************)
(* Rowan-KV (seed 001): a log-structured PM KV store with primary-backup   *)
(* replication through Rowan.  Every server has ONE backup log fed by one  *)
(* Rowan instance: SENDs from many primaries (for different shards) land   *)
(* back to back, in increasing address order, in that log (the NIC pops    *)
(* the receive buffers the control thread posted in address order), and   *)
(* the NIC's hardware ACK means the entry is persistent (DDIO off).        *)
(*                                                                         *)
(* Modelled: a configuration manager (CM) mapping each shard to (epoch,    *)
(* primary, backups); PUT = append to the primary log, SEND the entry to   *)
(* every backup of the epoch via Rowan, wait for all hardware ACKs, update *)
(* the DRAM index, reply; FaRM-style reconfiguration: the CM bumps the     *)
(* shard's epoch, promotes a backup, and the members of the new            *)
(* configuration tear down the old epoch's connections (SENDs of the old   *)
(* epoch are no longer accepted); the promoted backup rebuilds its index   *)
(* from its backup log before serving; crashes (PM survives); GC of backup *)
(* log segments (RAMCloud-style: a segment is freed once every entry in it *)
(* is superseded by a newer entry of its key).                             *)
(*                                                                         *)
(* Abstractions: one key per shard; the primary log is folded into the     *)
(* primary's index (it only matters to the primary itself); a server that  *)
(* leaves a configuration does not rejoin; GETs are not modelled (Rowan-KV *)
(* serves them from the primary's index, under FaRM-style leases).         *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets, TLC

CONSTANTS
  Server,            \* servers (model values)
  Shard,             \* shards (model values), one key each
  SegLen,            \* backup-log entries per segment
  MaxPuts, MaxCrashes, MaxFailovers,
  \* test-only weakenings; all FALSE normally
  AckBeforeAllBackups,   \* reply after the first backup's ACK
  SkipEpochCheck,        \* failover keeps the epoch: the old primary is not fenced
  GcReferenced           \* GC frees a segment without checking its entries are superseded

VARIABLES
  up,        \* [Server -> BOOLEAN]
  cfg,       \* [Shard -> [epoch, primary, backups]]   at the CM
  view,      \* [Server -> [Shard -> [epoch, primary, backups]]]  what each server knows
  ready,     \* [Server -> [Shard -> BOOLEAN]]  primary has (re)built its index
  index,     \* [Server -> [Shard -> Entry]]    DRAM index (newest entry) at a primary
  blog,      \* [Server -> Seq(Entry)]          the backup log (PM), address = position
  op,        \* [Server -> [Shard -> Op]]       a PUT in progress at a primary
  nputs, crashes, failovers,
  acked,     \* history: entries of acknowledged PUTs
  acted      \* history: [sh, epoch, p] for every SEND of primary p that landed in epoch

Symmetry == Permutations(Server)

vars == <<up, cfg, view, ready, index, blog, op, nputs, crashes, failovers, acked, acted>>

NoEntry == [sh |-> "none", val |-> 0, ver |-> <<0, 0>>, freed |-> FALSE]
Idle == [busy |-> FALSE, e |-> NoEntry, epoch |-> 0, pending |-> {}, acks |-> {}]
Newer(a, b) == a[1] > b[1] \/ (a[1] = b[1] /\ a[2] > b[2])
VerGeq(a, b) == ~Newer(b, a)

Members(c) == {c.primary} \cup c.backups
IsPrimary(s, sh) == up[s] /\ view[s][sh].primary = s /\ ready[s][sh]
\* a backup's NIC accepts a SEND of epoch e for shard sh only on a connection of that epoch
Accepts(b, sh, e) == up[b] /\ view[b][sh].epoch = e

\* newest (non-freed) entry of shard sh in a backup log
NewestIn(L, sh) ==
  LET I == {i \in 1..Len(L) : L[i].sh = sh /\ ~L[i].freed}
  IN IF I = {} THEN NoEntry ELSE L[CHOOSE i \in I : \A j \in I : VerGeq(L[i].ver, L[j].ver)]

Seg(i) == (i - 1) \div SegLen + 1
SegIdx(L, g) == {i \in 1..Len(L) : Seg(i) = g}

-----------------------------------------------------------------------------
(* Initially every shard has epoch 1, a primary (different shards, different primaries, so that  *)
(* every backup log aggregates SENDs from several primaries) and every other server as a backup. *)
Init ==
  /\ up = [s \in Server |-> TRUE]
  /\ \E pr \in [Shard -> Server] :
       /\ \A x, y \in Shard : x # y => pr[x] # pr[y]
       /\ cfg = [sh \in Shard |-> [epoch |-> 1, primary |-> pr[sh], backups |-> Server \ {pr[sh]}]]
       /\ ready = [s \in Server |-> [sh \in Shard |-> s = pr[sh]]]
  /\ view = [s \in Server |-> cfg]
  /\ index = [s \in Server |-> [sh \in Shard |-> NoEntry]]
  /\ blog = [s \in Server |-> <<>>]
  /\ op = [s \in Server |-> [sh \in Shard |-> Idle]]
  /\ nputs = 0 /\ crashes = 0 /\ failovers = 0
  /\ acked = {}
  /\ acted = {}

(* PUT at primary p: append to the primary log, post one SEND per backup of its epoch. *)
StartPut(p, sh) ==
  /\ IsPrimary(p, sh)
  /\ ~op[p][sh].busy
  /\ nputs < MaxPuts
  /\ LET e == [sh |-> sh, val |-> nputs + 1, ver |-> <<view[p][sh].epoch, nputs + 1>>, freed |-> FALSE]
     IN op' = [op EXCEPT ![p][sh] = [busy |-> TRUE, e |-> e, epoch |-> view[p][sh].epoch,
                                     pending |-> view[p][sh].backups, acks |-> {}]]
  /\ nputs' = nputs + 1
  /\ UNCHANGED <<up, cfg, view, ready, index, blog, crashes, failovers, acked, acted>>

(* Rowan: the SEND lands at the tail of b's single backup log (the next posted buffer), and b's *)
(* NIC returns the hardware ACK.                                                               *)
Land(p, sh, b) ==
  /\ op[p][sh].busy
  /\ b \in op[p][sh].pending
  /\ Accepts(b, sh, op[p][sh].epoch)
  /\ blog' = [blog EXCEPT ![b] = Append(@, op[p][sh].e)]
  /\ op' = [op EXCEPT ![p][sh].pending = @ \ {b}, ![p][sh].acks = @ \cup {b}]
  /\ acted' = acted \cup {[sh |-> sh, epoch |-> op[p][sh].epoch, p |-> p]}
  /\ UNCHANGED <<up, cfg, view, ready, index, nputs, crashes, failovers, acked>>

(* All backups ACKed: update the index, reply. *)
Complete(p, sh) ==
  /\ op[p][sh].busy
  /\ up[p]
  /\ IF AckBeforeAllBackups THEN op[p][sh].acks # {} \/ view[p][sh].backups = {}
     ELSE op[p][sh].pending = {}
  /\ index' = [index EXCEPT ![p][sh] = op[p][sh].e]
  /\ acked' = acked \cup {op[p][sh].e}
  /\ op' = [op EXCEPT ![p][sh] = Idle]
  /\ UNCHANGED <<up, cfg, view, ready, blog, nputs, crashes, failovers, acted>>

(* A SEND to a backup that no longer accepts it fails: the PUT is abandoned (the client retries). *)
Abandon(p, sh) ==
  /\ op[p][sh].busy
  /\ \E b \in op[p][sh].pending : ~Accepts(b, sh, op[p][sh].epoch)
  /\ op' = [op EXCEPT ![p][sh] = Idle]
  /\ UNCHANGED <<up, cfg, view, ready, index, blog, nputs, crashes, failovers, acked, acted>>

Crash(s) ==
  /\ up[s]
  /\ crashes < MaxCrashes
  /\ up' = [up EXCEPT ![s] = FALSE]
  /\ ready' = [ready EXCEPT ![s] = [sh \in Shard |-> FALSE]]
  /\ index' = [index EXCEPT ![s] = [sh \in Shard |-> NoEntry]]
  /\ op' = [op EXCEPT ![s] = [sh \in Shard |-> Idle]]
  /\ crashes' = crashes + 1
  /\ UNCHANGED <<cfg, view, blog, nputs, failovers, acked, acted>>

(* Failover (FaRM-style reconfiguration): the CM suspects the primary (crashed, or merely slow), *)
(* promotes a live backup, drops dead members, bumps the epoch; the new configuration's members *)
(* learn it (and tear down the old epoch's connections) before it is committed.  The old primary *)
(* is not told.                                                                                 *)
Failover(sh, np) ==
  /\ failovers < MaxFailovers
  /\ np \in cfg[sh].backups
  /\ up[np]
  /\ LET c == cfg[sh]
         nc == [epoch |-> IF SkipEpochCheck THEN c.epoch ELSE c.epoch + 1,
                primary |-> np,
                backups |-> {b \in c.backups \ {np} : up[b]}]
     IN /\ cfg' = [cfg EXCEPT ![sh] = nc]
        /\ view' = [s \in Server |-> IF s \in Members(nc) THEN [view[s] EXCEPT ![sh] = nc] ELSE view[s]]
  /\ ready' = [ready EXCEPT ![np][sh] = FALSE]
  /\ failovers' = failovers + 1
  /\ UNCHANGED <<up, index, blog, op, nputs, crashes, acked, acted>>

(* The promoted backup rebuilds its index for the shard from its backup log, then serves. *)
Promote(np, sh) ==
  /\ up[np]
  /\ view[np][sh].primary = np
  /\ ~ready[np][sh]
  /\ index' = [index EXCEPT ![np][sh] = NewestIn(blog[np], sh)]
  /\ ready' = [ready EXCEPT ![np][sh] = TRUE]
  /\ UNCHANGED <<up, cfg, view, blog, op, nputs, crashes, failovers, acked, acted>>

(* GC of a full backup-log segment whose entries are all superseded by newer entries of their   *)
(* shard that live outside the segment.                                                         *)
SupersededOutside(L, i, g) ==
  \E j \in 1..Len(L) : Seg(j) # g /\ ~L[j].freed /\ L[j].sh = L[i].sh /\ Newer(L[j].ver, L[i].ver)
GcSegment(b, g) ==
  /\ up[b]
  /\ Len(blog[b]) >= g * SegLen
  /\ \E i \in SegIdx(blog[b], g) : ~blog[b][i].freed
  /\ GcReferenced \/ \A i \in SegIdx(blog[b], g) : blog[b][i].freed \/ SupersededOutside(blog[b], i, g)
  /\ blog' = [blog EXCEPT ![b] = [i \in 1..Len(@) |-> IF Seg(i) = g THEN [@[i] EXCEPT !.freed = TRUE] ELSE @[i]]]
  /\ UNCHANGED <<up, cfg, view, ready, index, op, nputs, crashes, failovers, acked, acted>>

Next ==
  \/ \E p \in Server, sh \in Shard : StartPut(p, sh) \/ Complete(p, sh) \/ Abandon(p, sh) \/ Promote(p, sh)
  \/ \E p, b \in Server, sh \in Shard : Land(p, sh, b)
  \/ \E s \in Server : Crash(s)
  \/ \E sh \in Shard, np \in Server : Failover(sh, np)
  \/ \E b \in Server, g \in 1..(MaxPuts * Cardinality(Server)) : GcSegment(b, g)

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
(* Invariants *)

TypeOK ==
  /\ up \in [Server -> BOOLEAN]
  /\ \A s \in Server : Len(blog[s]) <= MaxPuts * Cardinality(Server)

\* Every acknowledged PUT survives failover: every backup of the shard's current configuration
\* (crashed or not: PM survives) holds it or a newer version in its backup log, so whichever
\* backup is promoted next rebuilds an index that reflects it; and a serving primary's index
\* reflects it.
AckedSurviveFailover ==
  \A e \in acked :
    /\ \A b \in cfg[e.sh].backups : VerGeq(NewestIn(blog[b], e.sh).ver, e.ver)
    /\ IsPrimary(cfg[e.sh].primary, e.sh) => VerGeq(index[cfg[e.sh].primary][e.sh].ver, e.ver)

\* No two primaries of a shard in one epoch act on (land SENDs in) backups.
OnePrimaryPerEpoch ==
  \A x, y \in acted : (x.sh = y.sh /\ x.epoch = y.epoch) => x.p = y.p

\* GC never frees a live entry: the newest entry of every shard ever landed in a backup log is
\* still there.
GcKeepsLive ==
  \A b \in Server, sh \in Shard :
    LET I == {i \in 1..Len(blog[b]) : blog[b][i].sh = sh}
    IN I # {} => \E i \in I : ~blog[b][i].freed /\ \A j \in I : VerGeq(blog[b][i].ver, blog[b][j].ver)
=============================================================================
