------------------------------- MODULE LoLKV -------------------------------
(***************************************************************************)
(* LoLKV, as designed in docs/lolkv.md: a leader-based linearizable KV     *)
(* store with logless replication (one RDMA WRITE commits an object on a   *)
(* follower, an asynchronous WRITE of the slot word applies it there) and  *)
(* a multi-threaded shard (every worker thread serves any key, appends     *)
(* into its own segment and replicates on its own QPs, so different        *)
(* threads' objects reach different majorities).                           *)
(*                                                                         *)
(* Modelled: per-thread segments in a shared PM layout (the same object at *)
(* the same (segment, offset) on every replica), replication to majorities *)
(* including the leader, the incarnation array, the hash-table apply with  *)
(* the newer-only CAS (local) and the slot-word WRITE (remote, a hint),    *)
(* GETs with the read check, torn objects (a WRITE in flight when its      *)
(* sender or receiver crashes), crash/restart, elections in which any      *)
(* replica may win (and be stale for some threads), revocation-based term  *)
(* fencing, state synchronization from the voters, follower catch-up, and  *)
(* garbage collection (relocation of live objects, freeing and reuse of    *)
(* segments).                                                              *)
(*                                                                         *)
(* Abstractions: a GET's lookup + CRC/key check + slot re-check is one     *)
(* atomic step (that is what the grace period buys); the hash table is a   *)
(* map key -> pointer (linear probing and CAS retries are below this       *)
(* level); a leader's local write+persist of its own object is atomic;     *)
(* clients do not retry (no dedup table).                                  *)
(*                                                                         *)
(* The Skip*/AckBeforeMajority constants weaken one guard each; they are   *)
(* FALSE in LoLKV.cfg and set in spec/mustfail/*.cfg, where TLC must find  *)
(* a counterexample.                                                       *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets, TLC

CONSTANTS
  Replica,          \* the replicas (model values)
  Thread,           \* worker threads per replica (model values)
  Key,              \* keys (model values)
  NSeg,             \* segments in the segment area
  SegSize,          \* objects per segment
  MaxPuts,          \* PUTs in a behavior (values are 1..MaxPuts, each written once)
  MaxTerm,          \* highest term an election may reach
  MaxCrashes,       \* crashes in a behavior
  MaxRelocs,        \* GC relocations in a behavior
  RemoteApply,      \* model the asynchronous remote apply (followers' tables)
  InitLeader,       \* start with an established leader of term 1 (any replica) instead of no leader
  \* test-only weakenings (docs/lolkv.md "Test-only switches"); all FALSE normally
  SkipIncarnationCheck, SkipTornCheck, SkipStateSync, SkipTermFencing,
  AckBeforeMajority, SkipReadCheck

ASSUME MaxPuts \in Nat /\ MaxTerm \in Nat /\ MaxCrashes \in Nat /\ MaxRelocs \in Nat
ASSUME NSeg \in Nat \ {0} /\ SegSize \in Nat \ {0}

VARIABLES
  currentTerm,  \* [Replica -> Nat]        PM meta
  up,           \* [Replica -> BOOLEAN]
  role,         \* [Replica -> {"follower","candidate","leader"}]
  synced,       \* [Replica -> BOOLEAN]    leader has finished state sync (serves)
  votes,        \* [Replica -> SUBSET Replica]  votes a candidate/leader holds
  conn,         \* [Replica -> SUBSET Replica]  followers a leader's workers write to
  store,        \* [Replica -> [Addr -> Obj]]   PM segment area
  table,        \* [Replica -> [Key -> Addr \cup {NoAddr}]]  PM hash table
  incarn,       \* [Replica -> [Key -> Nat]]    leader DRAM: incarnation array
  segState,     \* [Replica -> [Seg -> {"free","sealed"} \cup Worker]]  leader DRAM
  tail,         \* [Replica -> [Seg -> 0..SegSize]]  leader DRAM: last used offset
  segGen,       \* [Replica -> [Seg -> Nat]]  leader DRAM: reuse generation of each segment
  op,           \* [Replica -> [Worker -> Op]]  the operation each worker runs
  ra,           \* set of remote-apply WRITEs (slot words) in flight
  nputs, crashes, relocs,   \* bounds
  readMax,      \* history: [Key -> Ver] newest version returned by a GET
  acked,        \* history: set of [key, ver] of acknowledged PUTs
  lin           \* history: "ok", or why the last completed operation was not linearizable

vars == <<currentTerm, up, role, synced, votes, conn, store, table, incarn,
          segState, tail, segGen, op, ra, nputs, crashes, relocs, readMax, acked, lin>>

-----------------------------------------------------------------------------
None == "none"
NoKey == "nokey"
GC == "gc"                      \* the GC thread of the leader
Worker == Thread \cup {GC}
Seg == 1..NSeg
Addr == Seg \X (1..SegSize)
NoAddr == <<0, 0>>
V0 == <<0, 0>>                  \* version of "absent"
Garbage == MaxPuts + 1          \* what a torn object's value bytes decode to

\* Objects: [key, val, ver = <<term, inc>>, ws = write stamp <<wterm, gen>>, ok = CRC matches].
\* The write stamp is the term of the leader that wrote the object at this location and the reuse
\* generation of the segment in that term; state sync keeps, per location, the newest stamp.
Empty == [key |-> NoKey, val |-> 0, ver |-> V0, ws |-> V0, ok |-> FALSE]
Torn(o) == [o EXCEPT !.ok = FALSE, !.val = Garbage]
IsObj(o) == o.key # NoKey
\* what the code accepts as valid (the CRC check, unless switched off)
Valid(o) == IsObj(o) /\ (o.ok \/ SkipTornCheck)
\* what is really valid
Sound(o) == IsObj(o) /\ o.ok

Newer(a, b) == a[1] > b[1] \/ (a[1] = b[1] /\ a[2] > b[2])
VerGeq(a, b) == ~Newer(b, a)
VerMax(a, b) == IF Newer(a, b) THEN a ELSE b
Quorum(S) == 2 * Cardinality(S) > Cardinality(Replica)
\* newest version of an acknowledged PUT of k (a history-derived value)
AckedMax(k) == LET vs == {p.ver : p \in {q \in acked : q.key = k}}
               IN IF vs = {} THEN V0 ELSE CHOOSE v \in vs : \A v2 \in vs : VerGeq(v, v2)
Min(S) == CHOOSE x \in S : \A y \in S : x <= y

Idle == [kind |-> "idle", key |-> NoKey, val |-> 0, ver |-> V0, ws |-> V0, addr |-> NoAddr,
         src |-> NoAddr, term |-> 0, acks |-> {}, targets |-> {}, phase |-> "idle",
         lb |-> V0]
ObjOf(o) == [key |-> o.key, val |-> o.val, ver |-> o.ver, ws |-> o.ws, ok |-> TRUE]

\* a leader serves once it has synchronized and a majority (itself included) is caught up
IsServing(r) == up[r] /\ role[r] = "leader" /\ synced[r] /\ Quorum(conn[r] \cup {r})
TableObj(r, k) == IF table[r][k] = NoAddr THEN Empty ELSE store[r][table[r][k]]
TableVer(r, k) == IF table[r][k] = NoAddr THEN V0 ELSE store[r][table[r][k]].ver

\* A follower's NIC accepts a WRITE of a leader of term tm only while its regions are still
\* registered for that term: granting a vote (or being connected) in a newer term re-registers them.
Accepts(f, tm) == up[f] /\ (SkipTermFencing \/ currentTerm[f] = tm)

\* ---- segment allocation at the leader (worker w appends into its own segment) ----
CurSeg(r, w) == {s \in Seg : segState[r][s] = w}
FreeSegs(r) == {s \in Seg : segState[r][s] = "free"}
HasRoom(r, w) == \E s \in CurSeg(r, w) : tail[r][s] < SegSize
CanAlloc(r, w) == HasRoom(r, w) \/ FreeSegs(r) # {}
AllocAddr(r, w) ==
  IF HasRoom(r, w) THEN LET s == CHOOSE s \in CurSeg(r, w) : TRUE IN <<s, tail[r][s] + 1>>
  ELSE <<Min(FreeSegs(r)), 1>>
\* the owner moves to a new segment: the old one is sealed; a segment taken from the free list
\* gets the next reuse generation
AllocUpdate(r, w, a) ==
  /\ segState' = [segState EXCEPT ![r] = [s \in Seg |->
                    IF s = a[1] THEN w ELSE IF segState[r][s] = w THEN "sealed" ELSE segState[r][s]]]
  /\ tail' = [tail EXCEPT ![r][a[1]] = a[2]]
  /\ segGen' = IF segState[r][a[1]] = "free" THEN [segGen EXCEPT ![r][a[1]] = @ + 1] ELSE segGen
\* the used part of a segment: up to its tail while it is open, all of it once sealed
MaxUsed(r, s) == IF segState[r][s] = "sealed" THEN SegSize ELSE tail[r][s]
\* the write stamp an allocation at a gets
StampAt(r, a) == <<currentTerm[r], IF segState[r][a[1]] = "free" THEN segGen[r][a[1]] + 1 ELSE segGen[r][a[1]]>>

\* a replica that stops leading: workers' unfinished PUTs/relocations become orphans (their
\* posted WRITEs may still land; the clients see no reply)
Demoted(r) == [w \in Worker |->
                 IF op[r][w].phase = "repl" THEN [op[r][w] EXCEPT !.phase = "orphan"] ELSE op[r][w]]

-----------------------------------------------------------------------------
Init ==
  /\ up = [r \in Replica |-> TRUE]
  /\ votes = [r \in Replica |-> {}]
  /\ IF InitLeader
     THEN \E l \in Replica :
            /\ currentTerm = [r \in Replica |-> 1]
            /\ role = [r \in Replica |-> IF r = l THEN "leader" ELSE "follower"]
            /\ synced = [r \in Replica |-> r = l]
            /\ conn = [r \in Replica |-> IF r = l THEN Replica \ {l} ELSE {}]
     ELSE /\ currentTerm = [r \in Replica |-> 0]
          /\ role = [r \in Replica |-> "follower"]
          /\ synced = [r \in Replica |-> FALSE]
          /\ conn = [r \in Replica |-> {}]
  /\ store = [r \in Replica |-> [a \in Addr |-> Empty]]
  /\ table = [r \in Replica |-> [k \in Key |-> NoAddr]]
  /\ incarn = [r \in Replica |-> [k \in Key |-> 0]]
  /\ segState = [r \in Replica |-> [s \in Seg |-> "free"]]
  /\ tail = [r \in Replica |-> [s \in Seg |-> 0]]
  /\ segGen = [r \in Replica |-> [s \in Seg |-> 0]]
  /\ op = [r \in Replica |-> [w \in Worker |-> Idle]]
  /\ ra = {}
  /\ nputs = 0 /\ crashes = 0 /\ relocs = 0
  /\ readMax = [k \in Key |-> V0]
  /\ acked = {}
  /\ lin = "ok"

-----------------------------------------------------------------------------
(* PUT, steps 1-4: incarnation (faa), allocation in the worker's segment, local write+persist,   *)
(* one signaled WRITE posted to every connected follower.  Trace: lolkv.replicate.              *)
StartPut(r, w, k) ==
  /\ w \in Thread
  /\ IsServing(r)
  /\ op[r][w].phase = "idle"
  /\ nputs < MaxPuts
  /\ CanAlloc(r, w)
  /\ LET a == AllocAddr(r, w)
         inc == incarn[r][k] + 1
         o == [key |-> k, val |-> nputs + 1, ver |-> <<currentTerm[r], inc>>, ws |-> StampAt(r, a), ok |-> TRUE]
     IN /\ incarn' = [incarn EXCEPT ![r][k] = inc]
        /\ store' = [store EXCEPT ![r][a] = o]
        /\ AllocUpdate(r, w, a)
        /\ op' = [op EXCEPT ![r][w] =
                    [Idle EXCEPT !.kind = "put", !.key = k, !.val = o.val, !.ver = o.ver, !.ws = o.ws,
                                 !.addr = a, !.term = currentTerm[r], !.targets = conn[r],
                                 !.phase = "repl", !.lb = VerMax(AckedMax(k), readMax[k])]]
        /\ nputs' = nputs + 1
  /\ UNCHANGED <<currentTerm, up, role, synced, votes, conn, table, ra,
                 crashes, relocs, readMax, acked, lin>>

(* A posted WRITE lands in the follower's PM (DDIO off: the RC ACK means persisted). *)
Replicate(r, w, f) ==
  /\ op[r][w].phase \in {"repl", "orphan"}
  /\ f \in op[r][w].targets
  /\ Accepts(f, op[r][w].term)
  /\ store' = [store EXCEPT ![f][op[r][w].addr] = ObjOf(op[r][w])]
  /\ op' = [op EXCEPT ![r][w].acks = @ \cup {f}, ![r][w].targets = @ \ {f}]
  /\ UNCHANGED <<currentTerm, up, role, synced, votes, conn, table, incarn,
                 segState, tail, segGen, ra, nputs, crashes, relocs, readMax, acked, lin>>

(* A WRITE in flight when its sender or its receiver crashes lands partially: a torn object. *)
Tear(r, w, f) ==
  /\ op[r][w].phase \in {"repl", "orphan"}
  /\ f \in op[r][w].targets
  /\ ~up[r] \/ ~up[f]
  /\ SkipTermFencing \/ currentTerm[f] = op[r][w].term
  /\ store' = [store EXCEPT ![f][op[r][w].addr] = Torn(ObjOf(op[r][w]))]
  /\ op' = [op EXCEPT ![r][w].targets = @ \ {f}]
  /\ UNCHANGED <<currentTerm, up, role, synced, votes, conn, table, incarn,
                 segState, tail, segGen, ra, nputs, crashes, relocs, readMax, acked, lin>>

(* An orphan's remaining WRITEs never land. *)
DropOrphan(r, w) ==
  /\ op[r][w].phase = "orphan"
  /\ op' = [op EXCEPT ![r][w] = Idle]
  /\ UNCHANGED <<currentTerm, up, role, synced, votes, conn, store, table, incarn,
                 segState, tail, segGen, ra, nputs, crashes, relocs, readMax, acked, lin>>

(* PUT steps 4-6 / GC relocation: committed once a majority including the leader holds the     *)
(* object; local apply with CAS; reply; post the remote-apply WRITEs.                           *)
(* A PUT installs only a newer version (the incarnation check); a relocation swings the slot    *)
(* only if it still points at the old copy.  Trace: lolkv.commit, lolkv.apply.                  *)
Apply(r, w) ==
  /\ op[r][w].kind \in {"put", "reloc"}
  /\ op[r][w].phase = "repl"
  /\ up[r] /\ role[r] = "leader"
  /\ AckBeforeMajority \/ Quorum(op[r][w].acks \cup {r})
  /\ LET o == op[r][w]
         k == o.key
         install == IF o.kind = "put" THEN SkipIncarnationCheck \/ Newer(o.ver, TableVer(r, k))
                    ELSE table[r][k] = o.src
     IN /\ table' = IF install THEN [table EXCEPT ![r][k] = o.addr] ELSE table
        /\ ra' = IF RemoteApply /\ install
                 THEN ra \cup {[to |-> f, key |-> k, addr |-> o.addr, term |-> o.term] : f \in o.acks}
                 ELSE ra
        /\ op' = [op EXCEPT ![r][w] = Idle]
        /\ IF o.kind = "put"
           THEN /\ acked' = acked \cup {[key |-> k, ver |-> o.ver]}
                /\ lin' = IF Newer(o.ver, o.lb) THEN lin ELSE "put-order"
           ELSE UNCHANGED <<acked, lin>>
  /\ UNCHANGED <<currentTerm, up, role, synced, votes, conn, store, incarn,
                 segState, tail, segGen, nputs, crashes, relocs, readMax>>

(* Asynchronous remote apply: the slot word lands in a follower's table (a hint; two threads'  *)
(* WRITEs to one slot may land in any order), or is lost with its QP.                           *)
RemoteApplyLands(m) ==
  /\ m \in ra
  /\ Accepts(m.to, m.term)
  /\ table' = [table EXCEPT ![m.to][m.key] = m.addr]
  /\ ra' = ra \ {m}
  /\ UNCHANGED <<currentTerm, up, role, synced, votes, conn, store, incarn,
                 segState, tail, segGen, op, nputs, crashes, relocs, readMax, acked, lin>>

RemoteApplyLost(m) ==
  /\ m \in ra
  /\ ra' = ra \ {m}
  /\ UNCHANGED <<currentTerm, up, role, synced, votes, conn, store, table, incarn,
                 segState, tail, segGen, op, nputs, crashes, relocs, readMax, acked, lin>>

(* GET: probe, read the object, CRC and key check, slot re-check; then the read check: READ     *)
(* currentTerm on a majority (the leader included).  If all show the leader's term the GET       *)
(* replies (trace: lolkv.get); otherwise the leader steps down (trace: lolkv.step-down).  The    *)
(* two parts are one step here: between them only term changes matter, and those make the read   *)
(* check fail in both orders.                                                                    *)
Get(r, w, k) ==
  /\ w \in Thread
  /\ IsServing(r)
  /\ op[r][w].phase = "idle"
  /\ LET o == TableObj(r, k)
         none == table[r][k] = NoAddr
         ver == IF none THEN V0 ELSE o.ver
         same == {q \in Replica : up[q] /\ currentTerm[q] = currentTerm[r]}
     IN /\ none \/ (Valid(o) /\ o.key = k)
        /\ IF SkipReadCheck \/ Quorum(same)
           THEN /\ readMax' = [readMax EXCEPT ![k] = VerMax(@, ver)]
                /\ lin' = IF ~none /\ ~o.ok THEN "torn-read"
                          ELSE IF ~VerGeq(ver, VerMax(AckedMax(k), readMax[k])) THEN "stale-read"
                          ELSE lin
                /\ UNCHANGED <<role, synced, conn, op>>
           ELSE /\ role' = [role EXCEPT ![r] = "follower"]
                /\ synced' = [synced EXCEPT ![r] = FALSE]
                /\ conn' = [conn EXCEPT ![r] = {}]
                /\ op' = [op EXCEPT ![r] = Demoted(r)]
                /\ UNCHANGED <<readMax, lin>>
  /\ UNCHANGED <<currentTerm, up, votes, store, table, incarn, segState, tail, segGen, ra,
                 nputs, crashes, relocs, acked>>

-----------------------------------------------------------------------------
(* Election.  Trace: lolkv.elect-start. *)
Timeout(c) ==
  /\ up[c]
  /\ role[c] # "leader"
  /\ currentTerm[c] < MaxTerm
  /\ currentTerm' = [currentTerm EXCEPT ![c] = @ + 1]
  /\ role' = [role EXCEPT ![c] = "candidate"]
  /\ votes' = [votes EXCEPT ![c] = {c}]
  /\ UNCHANGED <<up, synced, conn, store, table, incarn, segState, tail, segGen, op, ra, nputs,
                 crashes, relocs, readMax, acked, lin>>

(* r grants its vote: it revokes the previous leader's access (re-registers its regions: new   *)
(* rkeys for the new term), persists (currentTerm, votedFor: not modelled, a vote needs a higher term here), answers.  A leader or candidate   *)
(* that sees the higher term steps down.  Trace: lolkv.vote, lolkv.step-down.                   *)
Vote(r, c) ==
  /\ r # c
  /\ up[r] /\ up[c]
  /\ role[c] = "candidate"
  /\ currentTerm[r] < currentTerm[c]
  /\ currentTerm' = [currentTerm EXCEPT ![r] = currentTerm[c]]
  /\ votes' = [votes EXCEPT ![c] = @ \cup {r}, ![r] = {}]
  /\ role' = [role EXCEPT ![r] = "follower"]
  /\ synced' = [synced EXCEPT ![r] = FALSE]
  /\ conn' = [conn EXCEPT ![r] = {}]
  /\ op' = IF role[r] = "leader" THEN [op EXCEPT ![r] = Demoted(r)] ELSE op
  /\ UNCHANGED <<up, store, table, incarn, segState, tail, segGen, ra, nputs, crashes, relocs,
                 readMax, acked, lin>>

(* Trace: lolkv.leader. *)
BecomeLeader(c) ==
  /\ up[c]
  /\ role[c] = "candidate"
  /\ Quorum(votes[c])
  /\ role' = [role EXCEPT ![c] = "leader"]
  /\ UNCHANGED <<currentTerm, up, synced, votes, conn, store, table, incarn,
                 segState, tail, segGen, op, ra, nputs, crashes, relocs, readMax, acked, lin>>

(* State synchronization (trace: lolkv.sync): READ the segment areas of every replica fenced for *)
(* the leader's term (its keys registered at that term: currentTerm = the leader's term) -- at   *)
(* least a majority with the leader; per location keep the valid object with the newest write    *)
(* stamp; write what was missing into the leader's own segments; rebuild the hash table (per key *)
(* the newest version, a GC copy beating its original by stamp), zero the incarnation array,     *)
(* rebuild the segment table (every non-empty segment sealed).  Then the followers are caught up *)
(* (Catchup), and the leader serves once a majority is.                                           *)
Best(c, V, a) ==
  LET ok == {o \in {store[v][a] : v \in V} : Valid(o)}
  IN IF ok = {} THEN store[c][a]
     ELSE CHOOSE o \in ok : \A o2 \in ok : VerGeq(o.ws, o2.ws)
NewestAddr(m, k) ==
  LET A == {a \in Addr : Valid(m[a]) /\ m[a].key = k}
  IN IF A = {} THEN NoAddr
     ELSE CHOOSE a \in A : \A b \in A : Newer(m[a].ver, m[b].ver)
                                        \/ (m[a].ver = m[b].ver /\ VerGeq(m[a].ws, m[b].ws))

Sync(c) ==
  /\ up[c]
  /\ role[c] = "leader"
  /\ ~synced[c]
  /\ LET V == IF SkipStateSync THEN {c} ELSE {v \in Replica : up[v] /\ currentTerm[v] = currentTerm[c]}
         mine == [a \in Addr |-> Best(c, V, a)]
     IN /\ SkipStateSync \/ Quorum(V)
        /\ store' = [store EXCEPT ![c] = mine]
        /\ table' = [table EXCEPT ![c] = [k \in Key |-> NewestAddr(mine, k)]]
        /\ segState' = [segState EXCEPT ![c] = [s \in Seg |->
                          IF \E i \in 1..SegSize : IsObj(mine[<<s, i>>]) THEN "sealed" ELSE "free"]]
  /\ conn' = [conn EXCEPT ![c] = {}]
  /\ incarn' = [incarn EXCEPT ![c] = [k \in Key |-> 0]]
  /\ tail' = [tail EXCEPT ![c] = [s \in Seg |-> 0]]
  /\ segGen' = [segGen EXCEPT ![c] = [s \in Seg |-> 0]]
  /\ synced' = [synced EXCEPT ![c] = TRUE]
  /\ votes' = [votes EXCEPT ![c] = {}]
  /\ UNCHANGED <<currentTerm, up, role, op, ra, nputs, crashes, relocs, readMax, acked, lin>>

(* A leader sees a higher term (a remote-access error on a WRITE, a heartbeat).               *)
(* Trace: lolkv.step-down.                                                                     *)
StepDown(r) ==
  /\ up[r]
  /\ role[r] = "leader"
  /\ \E q \in Replica : up[q] /\ currentTerm[q] > currentTerm[r]
  /\ role' = [role EXCEPT ![r] = "follower"]
  /\ synced' = [synced EXCEPT ![r] = FALSE]
  /\ conn' = [conn EXCEPT ![r] = {}]
  /\ op' = [op EXCEPT ![r] = Demoted(r)]
  /\ UNCHANGED <<currentTerm, up, votes, store, table, incarn, segState, tail, segGen, ra,
                 nputs, crashes, relocs, readMax, acked, lin>>

(* A follower's manager thread links a follower (its keys re-registered at the leader's term: a *)
(* heartbeat teaches it the term) and catches it up with bulk WRITEs of the used part of every   *)
(* segment and of the hash table; only then are its ACKs counted (workers write to it).  Nothing *)
(* is sent on its data QPs before, so the copy never overwrites a counted write.                 *)
(* Trace: lolkv.catchup.                                                                         *)
Catchup(l, f) ==
  /\ up[l] /\ role[l] = "leader" /\ synced[l]
  /\ f # l
  /\ up[f]
  /\ f \notin conn[l]
  /\ currentTerm[f] <= currentTerm[l]
  /\ store' = [store EXCEPT ![f] = [a \in Addr |->
                 IF segState[l][a[1]] # "free" /\ a[2] <= MaxUsed(l, a[1]) THEN store[l][a] ELSE store[f][a]]]
  /\ table' = [table EXCEPT ![f] = table[l]]
  /\ currentTerm' = [currentTerm EXCEPT ![f] = currentTerm[l]]
  /\ role' = [role EXCEPT ![f] = "follower"]
  /\ votes' = [votes EXCEPT ![f] = {}]
  /\ conn' = [conn EXCEPT ![l] = @ \cup {f}]
  /\ op' = IF role[f] = "leader" THEN [op EXCEPT ![f] = Demoted(f)] ELSE op
  /\ synced' = [synced EXCEPT ![f] = FALSE]
  /\ UNCHANGED <<up, incarn, segState, tail, segGen, ra, nputs, crashes, relocs,
                 readMax, acked, lin>>

-----------------------------------------------------------------------------
(* Crash: DRAM is lost (incarnations, segment table, workers); PM keeps what was persisted. *)
Crash(r) ==
  /\ up[r]
  /\ crashes < MaxCrashes
  /\ up' = [up EXCEPT ![r] = FALSE]
  /\ role' = [role EXCEPT ![r] = "follower"]
  /\ synced' = [synced EXCEPT ![r] = FALSE]
  /\ votes' = [votes EXCEPT ![r] = {}]
  /\ conn' = [x \in Replica |-> IF x = r THEN {} ELSE conn[x] \ {r}]
  /\ op' = [op EXCEPT ![r] = [w \in Worker |->
              IF op[r][w].phase = "repl" THEN [op[r][w] EXCEPT !.phase = "orphan"]
              ELSE IF op[r][w].phase = "orphan" THEN op[r][w] ELSE Idle]]
  /\ incarn' = [incarn EXCEPT ![r] = [k \in Key |-> 0]]
  /\ segState' = [segState EXCEPT ![r] = [s \in Seg |-> "free"]]
  /\ tail' = [tail EXCEPT ![r] = [s \in Seg |-> 0]]
  /\ segGen' = [segGen EXCEPT ![r] = [s \in Seg |-> 0]]
  /\ crashes' = crashes + 1
  /\ UNCHANGED <<currentTerm, store, table, ra, nputs, relocs, readMax,
                 acked, lin>>

(* Restart: the node's QPs are gone; WRITEs still in flight to or from it fail. *)
Restart(r) ==
  /\ ~up[r]
  /\ up' = [up EXCEPT ![r] = TRUE]
  /\ op' = [x \in Replica |-> IF x = r THEN [w \in Worker |-> Idle]
                              ELSE [w \in Worker |-> [op[x][w] EXCEPT !.targets = @ \ {r}]]]
  /\ ra' = {m \in ra : m.to # r}
  /\ UNCHANGED <<currentTerm, role, synced, votes, conn, store, table, incarn,
                 segState, tail, segGen, nputs, crashes, relocs, readMax, acked, lin>>

-----------------------------------------------------------------------------
(* GC: copy a live object out of a sealed segment into the GC thread's segment (replicated    *)
(* like a PUT, same version); Apply swings the slot if it still points at the old copy.        *)
GcRelocate(l, k) ==
  /\ IsServing(l)
  /\ op[l][GC].phase = "idle"
  /\ relocs < MaxRelocs
  /\ table[l][k] # NoAddr
  /\ segState[l][table[l][k][1]] = "sealed"
  /\ CanAlloc(l, GC)
  /\ LET a == AllocAddr(l, GC)
         o == [store[l][table[l][k]] EXCEPT !.ws = StampAt(l, a)]
     IN /\ store' = [store EXCEPT ![l][a] = o]
        /\ AllocUpdate(l, GC, a)
        /\ op' = [op EXCEPT ![l][GC] =
                    [Idle EXCEPT !.kind = "reloc", !.key = k, !.val = o.val, !.ver = o.ver, !.ws = o.ws,
                                 !.addr = a, !.src = table[l][k], !.term = currentTerm[l],
                                 !.targets = conn[l], !.phase = "repl"]]
        /\ relocs' = relocs + 1
  /\ UNCHANGED <<currentTerm, up, role, synced, votes, conn, table, incarn, ra,
                 nputs, crashes, readMax, acked, lin>>

(* A sealed segment no slot points into is freed (and reused after the grace period, which the *)
(* atomic GET makes implicit).  Trace: lolkv.gc-free.                                          *)
GcFree(l, s) ==
  /\ IsServing(l)
  /\ segState[l][s] = "sealed"
  /\ \A k \in Key : table[l][k] = NoAddr \/ table[l][k][1] # s
  /\ \A w \in Worker : ~(op[l][w].phase = "repl" /\ op[l][w].src # NoAddr /\ op[l][w].src[1] = s)
  /\ segState' = [segState EXCEPT ![l][s] = "free"]
  /\ tail' = [tail EXCEPT ![l][s] = 0]
  /\ UNCHANGED <<currentTerm, up, role, synced, votes, conn, store, table, incarn,
                 segGen, op, ra, nputs, crashes, relocs, readMax, acked, lin>>

-----------------------------------------------------------------------------
Next ==
  \/ \E r \in Replica, w \in Thread, k \in Key : StartPut(r, w, k) \/ Get(r, w, k)
  \/ \E r \in Replica, w \in Worker, f \in Replica : Replicate(r, w, f) \/ Tear(r, w, f)
  \/ \E r \in Replica, w \in Worker : Apply(r, w) \/ DropOrphan(r, w)
  \/ \E m \in ra : RemoteApplyLands(m) \/ RemoteApplyLost(m)
  \/ \E r \in Replica : Timeout(r) \/ BecomeLeader(r) \/ Sync(r) \/ StepDown(r) \/ Crash(r) \/ Restart(r)
  \/ \E r, c \in Replica : Vote(r, c) \/ Catchup(r, c)
  \/ \E l \in Replica, k \in Key : GcRelocate(l, k)
  \/ \E l \in Replica, s \in Seg : GcFree(l, s)

Spec == Init /\ [][Next]_vars

-----------------------------------------------------------------------------
(* Invariants *)

TypeOK ==
  /\ currentTerm \in [Replica -> 0..MaxTerm]
  /\ up \in [Replica -> BOOLEAN]
  /\ role \in [Replica -> {"follower", "candidate", "leader"}]
  /\ lin \in {"ok", "put-order", "stale-read", "torn-read"}

\* Every acknowledged PUT survives any allowed failure: it (or a newer version of its key) is
\* persisted, valid, on a majority -- which every future election's voters intersect.
AckedPutsDurable ==
  \A p \in acked :
    Quorum({r \in Replica : \E a \in Addr : Sound(store[r][a]) /\ store[r][a].key = p.key
                                            /\ VerGeq(store[r][a].ver, p.ver)})

\* A serving leader that could still pass a read check (a majority is in its term) reflects
\* every acknowledged PUT in its hash table.
LeaderReflectsAcked ==
  \A l \in Replica :
    (IsServing(l) /\ Quorum({q \in Replica : currentTerm[q] = currentTerm[l]}))
      => \A p \in acked : VerGeq(TableVer(l, p.key), p.ver)

\* No torn object is ever applied (a serving leader's slots point at sound objects of their key).
NoTornApplied ==
  \A l \in Replica : IsServing(l) =>
    \A k \in Key : table[l][k] # NoAddr => Sound(store[l][table[l][k]]) /\ store[l][table[l][k]].key = k

\* No torn object is ever returned by a GET.
NoTornRead == lin # "torn-read"

\* Linearizability against the version order (term, incarnation): a PUT gets a version newer than
\* every PUT acknowledged and every version read before it was invoked; a GET returns a version
\* at least as new as every PUT acknowledged and every GET completed before it was invoked.
Linearizable == lin \notin {"put-order", "stale-read"}

\* Election safety: at most one serving leader per term.
OneLeaderPerTerm ==
  \A a, b \in Replica : (IsServing(a) /\ IsServing(b) /\ currentTerm[a] = currentTerm[b]) => a = b

\* Action property: a key's applied version never decreases at a leader within its term.
AppliedNeverDecreases ==
  [][\A r \in Replica, k \in Key :
       (role[r] = "leader" /\ synced[r] /\ up[r] /\ role'[r] = "leader" /\ up'[r]
        /\ currentTerm'[r] = currentTerm[r])
         => VerGeq(TableVer(r, k)', TableVer(r, k))]_vars

Symmetry == Permutations(Replica) \cup Permutations(Thread)
=============================================================================
