--------------------------- MODULE RowanKVTrace ---------------------------
(***************************************************************************)
(* Trace validation of Rowan-KV (spec/README.md, "Trace validation").     *)
(*                                                                         *)
(* sim/validate/rowankv.ts turns a run's events into TrSteps (generated    *)
(* module RowanKVTraceData); this module walks them with a cursor i, each  *)
(* step one action of RowanKV.tla (StartPut, Land, Complete, Promote,      *)
(* Crash) or one of the implementation steps below that the spec          *)
(* abstracts (configurations adopted by each server from the CM's pings,  *)
(* restarts, resharding and catch-up).  TrProgress reports the highest    *)
(* step reached and stops TLC once the whole trace is taken.              *)
(*                                                                         *)
(* Model instance (RowanKVTrace.cfg, values from RowanKVTraceData):        *)
(*  - Shard = (real shard, PUT slot) pairs: the spec runs one PUT at a    *)
(*    time per primary and shard (op[p][sh]), the implementation one per  *)
(*    worker thread; the slots carry the concurrent PUTs of one shard.     *)
(*    A real shard's configuration applies to all its slots.               *)
(*  - a shard's epoch is its TENURE: the CM epoch in which its current     *)
(*    primary took it over (a handoff or promotion starts a tenure; a     *)
(*    backup joining or leaving does not).                                 *)
(*  - Land is LOGGED: the simulator's receive completion of the frame's   *)
(*    SEND at the backup (rc.recv, matched to its SEND and PUT), i.e. the *)
(*    frame is in the backup's Rowan buffer (DDIO off: persistent).       *)
(***************************************************************************)
EXTENDS RowanKV, RowanKVTraceData, TLC

VARIABLES
  i,        \* cursor into TrSteps
  nsteps,   \* steps taken (with i: the state, see TrView)
  stale     \* PUTs (trace numbers) with a frame that reached a backup only after it had moved on

tvars == <<vars, i, nsteps, stale>>

-----------------------------------------------------------------------------
(* Overrides (RowanKVTrace.cfg). *)

\* The implementation's servers adopt a new configuration when the CM's next ping reaches them,
\* not all at once: a backup may not yet know the tenure of a primary that already serves (the
\* CM publishes a configuration without waiting for its members).  Such a backup takes the new
\* primary's frames; what fencing must stop -- a backup that knows a NEWER tenure taking an older
\* primary's frames -- the relaxed guard still stops.
TrAccepts(b, sh, e) == up[b] /\ view[b][sh].epoch <= e
TrSymmetry == {}

-----------------------------------------------------------------------------
(* Implementation steps the spec abstracts (not in RowanKV's Next; used only here). *)

\* The CM publishes configuration E (cm-config).  A shard's new primary is one of its backups and
\* its tenure is a new epoch (the spec's Failover; a handoff also moves the shard to a backup).
\* Failover also requires the new primary to be up: the CM only knows which servers answered its
\* pings within suspectNs, and may hand a shard to one that has just crashed (it then never
\* activates, and the CM moves the shard on once it suspects it).
CmConfig(c) ==
  /\ \A sh \in Shard : c[sh].primary # cfg[sh].primary =>
        /\ c[sh].primary \in cfg[sh].backups
        /\ c[sh].epoch > cfg[sh].epoch
  /\ cfg' = c
  /\ UNCHANGED <<up, view, ready, index, blog, op, nputs, crashes, failovers, acked, acted>>

\* A server adopts configuration c (its view; the CM's ping carried it).
Adopt(s, c) ==
  /\ up[s]
  /\ \A sh \in Shard : c[sh].epoch >= view[s][sh].epoch
  /\ view' = [view EXCEPT ![s] = c]
  /\ UNCHANGED <<up, cfg, ready, index, blog, op, nputs, crashes, failovers, acked, acted>>

\* A primary stops serving a shard it no longer leads (its configuration names another primary).
Deactivate(s, sh) ==
  /\ view[s][sh].primary # s
  /\ ready' = [ready EXCEPT ![s][sh] = FALSE]
  /\ UNCHANGED <<up, cfg, view, index, blog, op, nputs, crashes, failovers, acked, acted>>

\* A crashed server boots again: PM (its backup log) kept, DRAM lost; it knows the initial
\* configuration until the CM's next ping.
Restart(s, c0) ==
  /\ ~up[s]
  /\ up' = [up EXCEPT ![s] = TRUE]
  /\ view' = [view EXCEPT ![s] = c0]
  /\ UNCHANGED <<cfg, ready, index, blog, op, nputs, crashes, failovers, acked, acted>>

\* A PUT whose primary dropped a target from its configuration no longer waits for it
\* ("a backup the configuration drops is no longer waited for"); same tenure only.
DropTargets(p, sh) ==
  /\ op[p][sh].busy
  /\ view[p][sh].epoch = op[p][sh].epoch
  /\ op' = [op EXCEPT ![p][sh].pending = @ \cap view[p][sh].backups]
  /\ UNCHANGED <<up, cfg, view, ready, index, blog, nputs, crashes, failovers, acked, acted>>

\* A PUT abandoned by its primary (it lost the shard, or its client gave up and the worker moved
\* on): the slot is free again.  The spec's Abandon needs a backup that refuses the SEND.
AbandonPut(p, sh) ==
  /\ op[p][sh].busy
  /\ op' = [op EXCEPT ![p][sh] = Idle]
  /\ UNCHANGED <<up, cfg, view, ready, index, blog, nputs, crashes, failovers, acked, acted>>

\* A frame of an older tenure reaches a backup that already knows a newer one.  The spec's backup
\* has torn down the old tenure's connections (the SEND fails); the implementation's takes the
\* frame (fencing is by leases, and the older version never wins).  Either way it does not count
\* as the PUT's ACK: the target is settled, but the PUT can no longer be acknowledged.
StaleLand(p, sh, b) ==
  /\ op[p][sh].busy
  /\ b \in op[p][sh].pending
  /\ ~Accepts(b, sh, op[p][sh].epoch)
  /\ op' = [op EXCEPT ![p][sh].pending = @ \ {b}]
  /\ UNCHANGED <<up, cfg, view, ready, index, blog, nputs, crashes, failovers, acked, acted>>

\* The implementation traces rowankv.commit once every target ACKed, before its lease check; a
\* PUT with a stale ACK is never acknowledged (its primary's lease ran out before the CM moved the
\* shard).  Not a reply: no index update, nothing acknowledged.
CompleteUnacked(p, sh) ==
  /\ op[p][sh].busy
  /\ op[p][sh].pending = {}
  /\ op' = [op EXCEPT ![p][sh] = Idle]
  /\ UNCHANGED <<up, cfg, view, ready, index, blog, nputs, crashes, failovers, acked, acted>>

\* Catch-up of a joining node (catchup-done): the primary has sent it the shard's objects (its
\* index) over Rowan and every one was ACKed.
CatchUpPush(p, sh, j) ==
  /\ up[p] /\ up[j]
  /\ index[p][sh] # NoEntry
  /\ blog' = [blog EXCEPT ![j] = Append(@, index[p][sh])]
  /\ UNCHANGED <<up, cfg, view, ready, index, op, nputs, crashes, failovers, acked, acted>>

-----------------------------------------------------------------------------
\* Configuration E as the spec sees it: every slot of a real shard gets that shard's record.
CfgOf(E) == [sh \in Shard |-> TrCfgReal[E][TrShardOf[sh] + 1]]

S == TrSteps[i]
Next1 == i' = i + 1
\* the slot running the PUT with trace number S.put at primary S.p
SlotOf(p, n) == {sh \in S.shs : op[p][sh].busy /\ op[p][sh].e.val = n}

Step ==
  \/ /\ S.a = "put"                      \* rowankv.append: StartPut in a free slot of the shard
     /\ LET free == {sh \in S.shs : ~op[S.p][sh].busy} IN
        /\ free # {}
        /\ nputs + 1 = S.put
        /\ StartPut(S.p, CHOOSE sh \in free : TRUE)
     /\ Next1
  \/ /\ S.a = "land"                     \* rc.recv of the frame's SEND at backup S.b
     /\ IF \E sh \in SlotOf(S.p, S.put) : S.b \in op[S.p][sh].pending
        THEN LET sh == CHOOSE sh \in SlotOf(S.p, S.put) : TRUE IN
             IF Accepts(S.b, sh, op[S.p][sh].epoch)
             THEN Land(S.p, sh, S.b) /\ UNCHANGED stale
             ELSE StaleLand(S.p, sh, S.b) /\ stale' = stale \cup {S.put}
        ELSE UNCHANGED <<vars, stale>>   \* not a target of the PUT (a joining node), or already done
     /\ Next1
  \/ /\ S.a = "droptargets"              \* before the commit: targets the primary's configuration dropped
     /\ SlotOf(S.p, S.put) # {}
     /\ DropTargets(S.p, CHOOSE sh \in SlotOf(S.p, S.put) : TRUE)
     /\ Next1
  \/ /\ S.a = "complete"                 \* rowankv.commit: every target ACKed; index updated, reply
     /\ SlotOf(S.p, S.put) # {}
     /\ IF S.put \in stale
        THEN CompleteUnacked(S.p, CHOOSE sh \in SlotOf(S.p, S.put) : TRUE)
        ELSE Complete(S.p, CHOOSE sh \in SlotOf(S.p, S.put) : TRUE)
     /\ Next1
  \/ /\ S.a = "abandon"                  \* a PUT that never commits frees its slot
     /\ IF SlotOf(S.p, S.put) # {} THEN AbandonPut(S.p, CHOOSE sh \in SlotOf(S.p, S.put) : TRUE) ELSE UNCHANGED vars
     /\ Next1
  \/ /\ S.a = "cmconfig"                 \* rowankv.cm-config
     /\ CmConfig(CfgOf(S.epoch))
     /\ Next1
  \/ /\ S.a = "adopt"                    \* rowankv.config at server S.s
     /\ Adopt(S.s, CfgOf(S.epoch))
     /\ Next1
  \/ /\ S.a = "promote"                  \* rowankv.activate: rebuild the index from the backup log
     /\ Promote(S.s, S.sh)
     /\ Next1
  \/ /\ S.a = "deactivate"               \* rowankv.deactivate
     /\ IF ready[S.s][S.sh] THEN Deactivate(S.s, S.sh) ELSE UNCHANGED vars
     /\ Next1
  \/ /\ S.a = "catchup"                  \* rowankv.catchup-done
     /\ IF index[S.p][S.sh] # NoEntry THEN CatchUpPush(S.p, S.sh, S.j) ELSE UNCHANGED vars
     /\ Next1
  \/ /\ S.a = "crash"                    \* fault.crash
     /\ Crash(S.s)
     /\ Next1
  \/ /\ S.a = "restart"                  \* fault.restart
     /\ Restart(S.s, CfgOf(1))
     /\ Next1

TrInit ==
  /\ up = [s \in Server |-> TRUE]
  /\ cfg = CfgOf(1)
  /\ view = [s \in Server |-> CfgOf(1)]
  /\ ready = [s \in Server |-> [sh \in Shard |-> FALSE]]
  /\ index = [s \in Server |-> [sh \in Shard |-> NoEntry]]
  /\ blog = [s \in Server |-> <<>>]
  /\ op = [s \in Server |-> [sh \in Shard |-> Idle]]
  /\ nputs = 0 /\ crashes = 0 /\ failovers = 0
  /\ acked = {}
  /\ acted = {}
  /\ i = 1
  /\ nsteps = 0
  /\ stale = {}

TrNext ==
  /\ i <= Len(TrSteps)
  /\ (i = 1 => TLCSet(1, 1))
  /\ Step
  /\ nsteps' = nsteps + 1
  /\ IF S.a = "land" THEN TRUE ELSE UNCHANGED stale

TrSpec == TrInit /\ [][TrNext]_tvars

\* Every step has at most one successor: the state is a function of the steps taken.
TrView == <<i, nsteps>>

TrProgress ==
  /\ (i > 1 /\ i > TLCGet(1)) => (TLCSet(1, i) /\ PrintT(<<"tv-progress", i>>))
  /\ (i > Len(TrSteps)) => (PrintT("tv-accepted") /\ TLCSet("exit", TRUE))
  /\ (TLCGet("duration") > TrBudgetSeconds) => (PrintT(<<"tv-budget", "time">>) /\ TLCSet("exit", TRUE))
  /\ (TLCGet("distinct") > TrBudgetStates) => (PrintT(<<"tv-budget", "states">>) /\ TLCSet("exit", TRUE))
=============================================================================
