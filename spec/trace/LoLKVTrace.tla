---------------------------- MODULE LoLKVTrace ----------------------------
(***************************************************************************)
(* Trace validation of LoLKV (spec/README.md, "Trace validation").        *)
(*                                                                         *)
(* A simulator run's protocol events are turned (sim/validate/lolkv.ts)    *)
(* into a sequence of STEPS, each naming one spec action of LoLKV.tla (or  *)
(* one of the few implementation steps below that the spec abstracts) and  *)
(* the values the event fixed; the generated module LoLKVTraceData defines *)
(* it as TrSteps.  This module walks TrSteps with a cursor i: a step is    *)
(* taken only if its spec action is enabled and its outcome is the one the *)
(* event recorded (the version a GET returned, whether an apply installed  *)
(* or replaced, ...).  Variables the events do not fix (which worker       *)
(* thread, which follower an uncommitted WRITE reached, ...) are chosen    *)
(* deterministically where no choice can be observed later, and           *)
(* nondeterministically (TLC explores every choice) where one can.        *)
(*                                                                         *)
(* The run is a behavior of the spec iff TLC reaches a state with          *)
(* i > Len(TrSteps): the constraint TrProgress then prints "tv-accepted"   *)
(* and stops TLC.  If TLC exhausts the reachable states without it, the    *)
(* trace is rejected; TrProgress prints every new maximum of i, so the     *)
(* last "tv-progress" line names the first step (and event) no behavior    *)
(* could take.  Breadth-first search, one worker (see spec/README.md).     *)
(***************************************************************************)
EXTENDS LoLKV, LoLKVTraceData, Sequences, TLC

VARIABLES
  i,        \* cursor into TrSteps
  pick,     \* followers an uncommitted WRITE lands on (chosen by a "landsome" step)
  caught,   \* [Replica -> SUBSET Replica] followers caught up since the leader's sync
  hist,     \* the choices made so far (the landsome picks), and
  nsteps    \* the number of steps taken: with i they determine the state (see TrView)

tvars == <<vars, i, pick, caught, hist, nsteps>>

-----------------------------------------------------------------------------
(* Overrides (LoLKVTrace.cfg): the spec's allocation is deterministic (lowest free segment, *)
(* tail + 1) and its segments belong to worker threads; the implementation's allocator     *)
(* (LIFO free list, variable-size objects) and its thread ids are not in the events.  Each  *)
(* PUT gets a fresh spec segment of one object instead (segment = the PUT's number in the  *)
(* trace), sealed at once; the object's real (segment, offset) is kept in the step for the  *)
(* reader.  A fresh address per object means no object is ever overwritten in the model,   *)
(* which only keeps dead objects around (state sync keeps, per key, the newest version).   *)
TrAllocAddr(r, w) == <<TrSteps[i].sseg, 1>>
TrCanAlloc(r, w) == TRUE
TrAllocUpdate(r, w, a) ==
  /\ segState' = [segState EXCEPT ![r][a[1]] = "sealed"]
  /\ tail' = [tail EXCEPT ![r][a[1]] = a[2]]
  /\ segGen' = IF segState[r][a[1]] = "free" THEN [segGen EXCEPT ![r][a[1]] = @ + 1] ELSE segGen
\* The implementation starts serving once a majority (itself included) is caught up and keeps
\* serving while followers fail (their links are re-established and caught up again); the spec's
\* conn shrinks when a follower crashes.  Serving = synced and a majority caught up since.
TrIsServing(r) == up[r] /\ role[r] = "leader" /\ synced[r] /\ Quorum(caught[r] \cup {r})
\* AckedMax(k) only feeds the history variables (PUT lower bounds, lin) that the invariants read;
\* no action's guard depends on it, and trace validation checks behaviors, not invariants.  It
\* scans the whole history at every PUT and GET, which dominates TLC's time on long traces.
TrAckedMax(k) == V0
\* No symmetry reduction (the trace fixes every identity); overriding it also keeps TLC from
\* computing Permutations(Thread) at startup (Thread is as large as the trace needs).
TrSymmetry == {}

-----------------------------------------------------------------------------
(* Implementation steps the spec abstracts (not in LoLKV's Next; used only here). *)

\* A replica learns a newer term without voting (a heartbeat, a vote reply, a vote it grants to a
\* candidate that has moved on): it re-registers its regions (fencing) and follows.  Terms only
\* come from elections, so some replica holds t.
RaiseTerm(r, t) ==
  /\ up[r]
  /\ currentTerm[r] < t
  /\ {q \in Replica : currentTerm[q] >= t} # {}
  /\ currentTerm' = [currentTerm EXCEPT ![r] = t]
  /\ role' = [role EXCEPT ![r] = "follower"]
  /\ synced' = [synced EXCEPT ![r] = FALSE]
  /\ votes' = [votes EXCEPT ![r] = {}]
  /\ conn' = [conn EXCEPT ![r] = {}]
  /\ op' = IF role[r] = "leader" THEN [op EXCEPT ![r] = Demoted(r)] ELSE op
  /\ UNCHANGED <<up, store, table, incarn, segState, tail, segGen, ra, nputs, crashes, relocs,
                 readMax, acked, lin>>

\* A leader steps down without seeing a newer term (fewer than a majority acknowledged its
\* heartbeats for stepDownNs).  Stepping down is always safe.
Resign(r) ==
  /\ up[r]
  /\ role[r] = "leader"
  /\ role' = [role EXCEPT ![r] = "follower"]
  /\ synced' = [synced EXCEPT ![r] = FALSE]
  /\ conn' = [conn EXCEPT ![r] = {}]
  /\ op' = [op EXCEPT ![r] = Demoted(r)]
  /\ UNCHANGED <<currentTerm, up, votes, store, table, incarn, segState, tail, segGen, ra,
                 nputs, crashes, relocs, readMax, acked, lin>>

\* A follower's links fail (partition, NIC failure) without a crash: the leader stops counting
\* it until its manager has caught it up again.
Unlink(l, f) ==
  /\ f \in conn[l]
  /\ conn' = [conn EXCEPT ![l] = @ \ {f}]
  /\ UNCHANGED <<currentTerm, up, role, synced, votes, store, table, incarn, segState, tail, segGen,
                 op, ra, nputs, crashes, relocs, readMax, acked, lin>>

\* A PUT still waiting for ACKs sends its object to a follower linked after it started (the
\* implementation re-sends to every follower counted while the PUT waits; the spec fixes the
\* targets when the PUT starts).  The follower was just caught up, so it holds the object.
Retarget(r, w, f) ==
  /\ op[r][w].phase = "repl"
  /\ f \in conn[r]
  /\ f \notin op[r][w].acks
  /\ op' = [op EXCEPT ![r][w].targets = @ \cup {f}]
  /\ UNCHANGED <<currentTerm, up, role, synced, votes, conn, store, table, incarn, segState, tail,
                 segGen, ra, nputs, crashes, relocs, readMax, acked, lin>>

\* A PUT took an incarnation but found no free segment (the client is told to retry): the key's
\* incarnation counter moves on without an object.
SkipIncarnations(r, k, v) ==
  /\ IsServing(r)
  /\ incarn[r][k] < v
  /\ incarn' = [incarn EXCEPT ![r][k] = v]
  /\ UNCHANGED <<currentTerm, up, role, synced, votes, conn, store, table, segState, tail, segGen,
                 op, ra, nputs, crashes, relocs, readMax, acked, lin>>

\* A catch-up's bulk WRITE of part of the leader's segment area landed on a follower (its
\* completion succeeded), whether or not the catch-up finished: the leader's objects there are on
\* the follower (A: the spec segments of the PUTs whose objects lie in that range).
CopyObjects(l, f, A) ==
  /\ up[f]
  /\ store' = [store EXCEPT ![f] = [a \in Addr |-> IF a[1] \in A /\ IsObj(store[l][a]) THEN store[l][a] ELSE store[f][a]]]
  /\ UNCHANGED <<currentTerm, up, role, synced, votes, conn, table, incarn, segState, tail, segGen,
                 op, ra, nputs, crashes, relocs, readMax, acked, lin>>

\* State sync READs the followers it is connected to that hold keys of its term -- a majority with
\* itself -- not necessarily every replica fenced for the term (LoLKV's Sync): a replica that has
\* learned the term but is not connected yet is not read, and an uncommitted object only it holds
\* is not adopted.  lolkv.sync names its sources (Src); otherwise this is LoLKV's Sync.
SyncFrom(c, Src) ==
  /\ up[c]
  /\ role[c] = "leader"
  /\ ~synced[c]
  /\ LET V == Src \cup {c}
         mine == [a \in Addr |-> Best(c, V, a)]
     IN /\ \A v \in V : up[v] /\ currentTerm[v] = currentTerm[c]
        /\ Quorum(V)
        /\ store' = [store EXCEPT ![c] = mine]
        /\ table' = [table EXCEPT ![c] = [k \in Key |-> NewestAddr(mine, k)]]
        /\ segState' = [segState EXCEPT ![c] = [s \in Seg |->
                          IF \E j \in 1..SegSize : IsObj(mine[<<s, j>>]) THEN "sealed" ELSE "free"]]
  /\ conn' = [conn EXCEPT ![c] = {}]
  /\ incarn' = [incarn EXCEPT ![c] = [k \in Key |-> 0]]
  /\ tail' = [tail EXCEPT ![c] = [s \in Seg |-> 0]]
  /\ segGen' = [segGen EXCEPT ![c] = [s \in Seg |-> 0]]
  /\ synced' = [synced EXCEPT ![c] = TRUE]
  /\ votes' = [votes EXCEPT ![c] = {}]
  /\ UNCHANGED <<currentTerm, up, role, op, ra, nputs, crashes, relocs, readMax, acked, lin>>

-----------------------------------------------------------------------------
S == TrSteps[i]
Min1(X) == CHOOSE x \in X : \A y \in X : x <= y
\* the worker running the PUT of (key, ver) at r
OpsOf(r, k, v) == {w \in Worker : op[r][w].kind = "put" /\ op[r][w].key = k /\ op[r][w].ver = v}
FreeThread(r) == CHOOSE w \in Thread : op[r][w].phase = "idle"
SameTerm(r) == {q \in Replica : up[q] /\ currentTerm[q] = currentTerm[r]}
AcceptingTargets(r, w) == {f \in op[r][w].targets : Accepts(f, op[r][w].term)}

\* Where an uncommitted WRITE with no completion (its leader crashed) may have landed: on none or all
\* of those followers (enough for one later state sync to adopt it or not), or, with TrFullLanding,
\* on any subset (a later sync from other sources may find it; more states).  See spec/README.md.
LandChoices(F) == IF TrFullLanding THEN SUBSET F ELSE {{}, F}

Next1 == i' = i + 1
Stay == UNCHANGED <<vars, pick, caught>>

(* One step of the trace.  Each disjunct is guarded by the step's kind. *)
Step ==
  \/ /\ S.a = "put"                      \* lolkv.replicate: StartPut (incarnation, allocation, local write)
     /\ currentTerm[S.r] = S.term
     /\ incarn[S.r][S.key] + 1 = S.inc
     /\ {w \in Thread : op[S.r][w].phase = "idle"} # {}
     /\ StartPut(S.r, FreeThread(S.r), S.key)
     /\ Next1 /\ UNCHANGED <<pick, caught>>
  \/ /\ S.a = "skipinc"                  \* incarnations taken by PUTs that got no segment
     /\ currentTerm[S.r] = S.term
     /\ SkipIncarnations(S.r, S.key, S.inc)
     /\ Next1 /\ UNCHANGED <<pick, caught>>
  \/ /\ S.a = "landall"                  \* its WRITEs land on every follower that accepts them
     /\ OpsOf(S.r, S.key, S.ver) # {}
     /\ LET w == CHOOSE w \in OpsOf(S.r, S.key, S.ver) : TRUE
            F == AcceptingTargets(S.r, w)
        IN IF F = {} THEN Next1 /\ Stay
           ELSE Replicate(S.r, w, Min1(F)) /\ UNCHANGED <<i, pick, caught>>
  \/ /\ S.a = "landsome"                 \* an uncommitted PUT that later events may reveal: its WRITEs
     /\ OpsOf(S.r, S.key, S.ver) # {}    \* land where their completion succeeded (S.lf), and where no
     /\ LET w == CHOOSE w \in OpsOf(S.r, S.key, S.ver) : TRUE   \* completion came, on some (LandChoices)
            F == AcceptingTargets(S.r, w)
        IN \E L \in LandChoices(F \cap S.lu) : pick' = (F \cap S.lf) \cup L /\ hist' = Append(hist, L)
     /\ Next1 /\ UNCHANGED <<vars, caught>>
  \/ /\ S.a = "landpick"
     /\ OpsOf(S.r, S.key, S.ver) # {}
     /\ LET w == CHOOSE w \in OpsOf(S.r, S.key, S.ver) : TRUE
        IN IF pick = {} THEN Next1 /\ Stay
           ELSE /\ Replicate(S.r, w, Min1(pick))
                /\ pick' = pick \ {Min1(pick)}
                /\ UNCHANGED <<i, caught>>
  \/ /\ S.a = "commit"                   \* lolkv.commit: a majority incl. the leader holds it
     /\ \E w \in OpsOf(S.r, S.key, S.ver) :
          /\ op[S.r][w].phase = "repl"
          /\ Quorum(op[S.r][w].acks \cup {S.r})
     /\ Next1 /\ Stay
  \/ /\ S.a = "apply"                    \* lolkv.apply: Apply with the recorded outcome
     /\ \E w \in OpsOf(S.r, S.key, S.ver) :
          /\ op[S.r][w].phase = "repl"
          /\ Newer(S.ver, TableVer(S.r, S.key)) = S.applied
          /\ S.replaced = (S.applied /\ table[S.r][S.key] # NoAddr)
          /\ Apply(S.r, w)
     /\ Next1 /\ UNCHANGED <<pick, caught>>
  \/ /\ S.a = "get"                      \* lolkv.get: Get returning the recorded incarnation
     /\ currentTerm[S.r] = S.term
     /\ Quorum(SameTerm(S.r))
     /\ IF S.inc = 0 THEN table[S.r][S.key] = NoAddr
        ELSE table[S.r][S.key] # NoAddr /\ TableObj(S.r, S.key).ver[2] = S.inc
     /\ {w \in Thread : op[S.r][w].phase = "idle"} # {}
     /\ Get(S.r, FreeThread(S.r), S.key)
     /\ Next1 /\ UNCHANGED <<pick, caught>>
  \/ /\ S.a = "lookup"                   \* lolkv.lookup: a GET's table read returned this incarnation
     /\ currentTerm[S.r] = S.term
     /\ IsServing(S.r)
     /\ IF S.inc = 0 THEN table[S.r][S.key] = NoAddr
        ELSE /\ table[S.r][S.key] # NoAddr
             /\ Valid(TableObj(S.r, S.key)) /\ TableObj(S.r, S.key).key = S.key
             /\ TableObj(S.r, S.key).ver[2] = S.inc
     /\ Next1 /\ Stay
  \/ /\ S.a = "getrc"                    \* lolkv.get after its lookup: the read check passed (Get)
     /\ currentTerm[S.r] = S.term
     /\ Quorum(SameTerm(S.r))
     /\ {w \in Thread : op[S.r][w].phase = "idle"} # {}
     /\ Get(S.r, FreeThread(S.r), S.key)
     /\ Next1 /\ UNCHANGED <<pick, caught>>
  \/ /\ S.a = "raise"                    \* learn a newer term if not known yet
     /\ IF currentTerm[S.r] >= S.term THEN Stay ELSE RaiseTerm(S.r, S.term) /\ UNCHANGED <<pick, caught>>
     /\ Next1
  \/ /\ S.a = "raiseup"                  \* a state-sync source (rc.read) knows the leader's term
     /\ IF currentTerm[S.r] >= S.term \/ ~up[S.r] THEN Stay ELSE RaiseTerm(S.r, S.term) /\ UNCHANGED <<pick, caught>>
     /\ Next1
  \/ /\ S.a = "copy"                     \* a catch-up's bulk WRITE landed (rc.complete)
     /\ IF up[S.f] THEN CopyObjects(S.r, S.f, S.segs) ELSE UNCHANGED vars
     /\ Next1 /\ UNCHANGED <<pick, caught>>
  \/ /\ S.a = "timeout"                  \* lolkv.elect-start
     /\ currentTerm[S.r] = S.term - 1
     /\ Timeout(S.r)
     /\ Next1 /\ UNCHANGED <<pick, caught>>
  \/ /\ S.a = "vote"                     \* lolkv.vote granted
     /\ IF currentTerm[S.r] >= S.term
        THEN currentTerm[S.r] = S.term /\ Stay                 \* re-grant in the same term
        ELSE IF up[S.c] /\ role[S.c] = "candidate" /\ currentTerm[S.c] = S.term
             THEN Vote(S.r, S.c) /\ UNCHANGED <<pick, caught>>
             ELSE RaiseTerm(S.r, S.term) /\ UNCHANGED <<pick, caught>>  \* the candidate moved on
     /\ Next1
  \/ /\ S.a = "leader"                   \* lolkv.leader
     /\ currentTerm[S.r] = S.term
     /\ BecomeLeader(S.r)
     /\ Next1 /\ UNCHANGED <<pick, caught>>
  \/ /\ S.a = "sync"                     \* lolkv.sync
     /\ currentTerm[S.r] = S.term
     /\ Sync(S.r)
     /\ caught' = [caught EXCEPT ![S.r] = {}]
     /\ Next1 /\ UNCHANGED pick
  \/ /\ S.a = "syncfrom"                 \* lolkv.sync {sources}: Sync from the replicas it READ
     /\ currentTerm[S.r] = S.term
     /\ SyncFrom(S.r, S.src)
     /\ caught' = [caught EXCEPT ![S.r] = {}]
     /\ Next1 /\ UNCHANGED pick
  \/ /\ S.a = "unlink"                   \* before a repeated catch-up of a follower still linked
     /\ IF S.f \in conn[S.r] THEN Unlink(S.r, S.f) ELSE UNCHANGED vars
     /\ Next1 /\ UNCHANGED <<pick, caught>>
  \/ /\ S.a = "catchup"                  \* lolkv.catchup
     /\ Catchup(S.r, S.f)
     /\ caught' = [caught EXCEPT ![S.r] = @ \cup {S.f}]
     /\ Next1 /\ UNCHANGED pick
  \/ /\ S.a = "retarget"                 \* an in-flight PUT that commits later counts the new follower
     /\ IF \E w \in OpsOf(S.r, S.key, S.ver) : op[S.r][w].phase = "repl" /\ S.f \notin op[S.r][w].acks
        THEN LET w == CHOOSE w \in OpsOf(S.r, S.key, S.ver) : op[S.r][w].phase = "repl" IN
             IF S.f \in op[S.r][w].targets THEN Replicate(S.r, w, S.f) /\ Next1
             ELSE Retarget(S.r, w, S.f) /\ UNCHANGED i
        ELSE UNCHANGED vars /\ Next1
     /\ UNCHANGED <<pick, caught>>
  \/ /\ S.a = "stepdown"                 \* lolkv.step-down
     /\ currentTerm[S.r] = S.term
     /\ role[S.r] = "leader"
     /\ IF \E q \in Replica : up[q] /\ currentTerm[q] > currentTerm[S.r] THEN StepDown(S.r) ELSE Resign(S.r)
     /\ Next1 /\ UNCHANGED <<pick, caught>>
  \/ /\ S.a = "crash"                    \* fault.crash
     /\ Crash(S.r)
     /\ Next1 /\ UNCHANGED <<pick, caught>>
  \/ /\ S.a = "restart"                  \* fault.restart
     /\ Restart(S.r)
     /\ Next1 /\ UNCHANGED <<pick, caught>>

TrInit ==
  /\ Init
  /\ i = 1
  /\ pick = {}
  /\ caught = [r \in Replica |-> {}]
  /\ hist = <<>>
  /\ nsteps = 0

TrNext ==
  /\ i <= Len(TrSteps)
  /\ (i = 1 => TLCSet(1, 1))
  /\ Step
  /\ nsteps' = nsteps + 1
  /\ IF S.a = "landsome" THEN TRUE ELSE UNCHANGED hist

TrSpec == TrInit /\ [][TrNext]_tvars

\* TLC identifies states by this view instead of all variables (fingerprinting LoLKV's store, one
\* object per PUT on every replica, dominated TLC's time).  Sound here: every step but "landsome"
\* has at most one successor, so a state is a function of the steps taken and the choices made.
TrView == <<i, nsteps, pick, hist>>

\* State constraint: report progress (every new maximum of i), stop at the end of the trace, and
\* stop (inconclusive) past the budget the generated module sets.
TrProgress ==
  /\ (i > 1 /\ i > TLCGet(1)) => (TLCSet(1, i) /\ PrintT(<<"tv-progress", i>>))
  /\ (i > Len(TrSteps)) => (PrintT("tv-accepted") /\ TLCSet("exit", TRUE))
  /\ (TLCGet("duration") > TrBudgetSeconds) => (PrintT(<<"tv-budget", "time">>) /\ TLCSet("exit", TRUE))
  /\ (TLCGet("distinct") > TrBudgetStates) => (PrintT(<<"tv-budget", "states">>) /\ TLCSet("exit", TRUE))
=============================================================================
