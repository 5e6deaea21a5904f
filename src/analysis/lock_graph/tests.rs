//! The lock graph end to end: facts in, cycles judged, findings out.

use super::*;
use crate::event::{Action, AgentId, LockMode, ObjectId, ObjectKind, Site, Trace};
use crate::finding::{Kind, Severity};

const X: LockMode = LockMode::Exclusive;
const S: LockMode = LockMode::Shared;

fn at(line: u32) -> Site {
    Site::new("bank.rs", line, 9)
}

/// `agent` takes `inner` (mode `mode`) at line `line + 1` while holding
/// `outer` (mode `outer_mode`) taken at `line`.
fn nested(
    agent: &str,
    outer: &str,
    outer_mode: LockMode,
    inner: &str,
    mode: LockMode,
    line: u32,
) -> Acquisition {
    Acquisition::new(LockKey::named(inner), mode, at(line + 1))
        .by(agent)
        .holding(Held::new(LockKey::named(outer), outer_mode, at(line)))
}

fn abba() -> Vec<Acquisition> {
    vec![
        nested("thread 1", "a", X, "b", X, 10),
        nested("thread 2", "b", X, "a", X, 20),
    ]
}

fn only(analysis: &Analysis) -> &CycleReport {
    assert_eq!(analysis.cycles.len(), 1, "{:#?}", analysis.cycles);
    &analysis.cycles[0]
}

#[test]
fn an_abba_inversion_between_two_threads_is_reported_with_both_paths() {
    let analysis = analyze(&abba());
    assert!(only(&analysis).is_kept());
    assert_eq!(
        only(&analysis).locks,
        vec![LockKey::named("a"), LockKey::named("b")]
    );
    assert_eq!(analysis.findings.len(), 1);
    let f = &analysis.findings[0];
    assert_eq!(f.kind, Kind::LockOrderInversion);
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.message, "locks `a` and `b` are taken in opposite orders");
    let labels: Vec<(u32, &str)> = f
        .locations
        .iter()
        .map(|l| (l.line, l.label.as_str()))
        .collect();
    assert_eq!(
        labels,
        vec![
            (11, "`b` taken while `a` is held (thread 1)"),
            (10, "`a` taken here (thread 1)"),
            (21, "`a` taken while `b` is held (thread 2)"),
            (20, "`b` taken here (thread 2)"),
        ]
    );
    let help = f.help.as_deref().unwrap();
    assert!(help.contains("`a` before `b`"), "{help}");
    assert_eq!(f.notes.len(), 1);
    assert!(
        f.notes[0].contains("different threads (thread 1, thread 2)"),
        "{}",
        f.notes[0]
    );
    assert!(f.notes[0].contains("no gate lock"));
    let steps: Vec<(&str, &str, bool)> = f
        .trace
        .as_ref()
        .unwrap()
        .iter()
        .map(|s| (s.agent.as_str(), s.action.as_str(), s.highlight))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("thread 1", "lock `a`", false),
            ("thread 2", "lock `b`", false),
            ("thread 1", "wait to lock `b`", true),
            ("thread 2", "wait to lock `a`", true),
        ]
    );
}

#[test]
fn a_cycle_taken_by_one_thread_only_is_filtered() {
    let facts = vec![
        nested("thread 1", "a", X, "b", X, 10),
        nested("thread 1", "b", X, "a", X, 20),
    ];
    let analysis = analyze(&facts);
    assert_eq!(
        only(&analysis).suppression(),
        Some(&Suppression::SingleThread {
            agent: Some("thread 1".into())
        })
    );
    assert!(analysis.findings.is_empty());
}

#[test]
fn one_other_thread_on_any_edge_is_enough_to_keep_the_cycle() {
    let mut facts = vec![
        nested("thread 1", "a", X, "b", X, 10),
        nested("thread 1", "b", X, "a", X, 20),
    ];
    assert!(!only(&analyze(&facts)).is_kept());
    facts.push(nested("thread 2", "b", X, "a", X, 30));
    let analysis = analyze(&facts);
    let Verdict::Kept { instances, .. } = &only(&analysis).verdict else {
        panic!("kept");
    };
    // The instance of thread 2 was chosen for the `b → a` edge.
    assert_eq!(instances[1].acquisition, 2);
    assert_eq!(analysis.findings[0].locations[2].line, 31);
}

#[test]
fn a_gate_lock_held_around_both_sides_filters_the_cycle() {
    let gate = |fact: Acquisition, mode| fact.holding(Held::new(LockKey::named("g"), mode, at(1)));
    let facts = vec![
        gate(nested("thread 1", "a", X, "b", X, 10), X),
        gate(nested("thread 2", "b", X, "a", X, 20), X),
    ];
    let analysis = analyze(&facts);
    assert_eq!(
        only(&analysis).suppression(),
        Some(&Suppression::GateLock {
            gate: LockKey::named("g")
        })
    );
    assert!(analysis.findings.is_empty());
    // A gate both sides hold only for reading lets both in: kept.
    let facts = vec![
        gate(nested("thread 1", "a", X, "b", X, 10), S),
        gate(nested("thread 2", "b", X, "a", X, 20), S),
    ];
    assert!(only(&analyze(&facts)).is_kept());
    // A gate held on one side only is no gate.
    let facts = vec![
        gate(nested("thread 1", "a", X, "b", X, 10), X),
        nested("thread 2", "b", X, "a", X, 20),
    ];
    assert!(only(&analyze(&facts)).is_kept());
}

#[test]
fn the_suppression_reason_is_described() {
    let gate = Suppression::GateLock {
        gate: LockKey::named("g"),
    };
    assert_eq!(
        gate.describe(),
        "`g` is held around the acquisitions on both sides"
    );
    assert!(Suppression::ForkJoinOrdered
        .describe()
        .contains("spawn/join"));
}

/// Builds a trace where `first` runs `a` then `b` and `second` runs `b`
/// then `a`, with `between` deciding how main orders the two threads.
fn philosophers(join_first_before_spawning_second: bool) -> Trace {
    let mut trace = Trace::new();
    let main = trace.thread("main");
    let t1 = trace.thread("thread 1");
    let t2 = trace.thread("thread 2");
    let a = trace.object(ObjectKind::Mutex, "a", at(1));
    let b = trace.object(ObjectKind::Mutex, "b", at(2));
    let take = |trace: &mut Trace, agent: AgentId, first: ObjectId, second: ObjectId, line: u32| {
        trace.push(
            agent,
            Action::LockAcquire {
                lock: first,
                mode: X,
            },
            at(line),
        );
        trace.push(
            agent,
            Action::LockAcquire {
                lock: second,
                mode: X,
            },
            at(line + 1),
        );
        trace.push(
            agent,
            Action::LockRelease {
                lock: second,
                mode: X,
            },
            at(line + 2),
        );
        trace.push(
            agent,
            Action::LockRelease {
                lock: first,
                mode: X,
            },
            at(line + 3),
        );
    };
    trace.push(main, Action::Spawn { child: t1 }, at(3));
    take(&mut trace, t1, a, b, 10);
    if join_first_before_spawning_second {
        trace.push(main, Action::Join { child: t1 }, at(4));
        trace.push(main, Action::Spawn { child: t2 }, at(5));
    } else {
        trace.push(main, Action::Spawn { child: t2 }, at(5));
        trace.push(main, Action::Join { child: t1 }, at(4));
    }
    take(&mut trace, t2, b, a, 20);
    trace
}

#[test]
fn threads_ordered_by_spawn_and_join_cannot_deadlock() {
    let analysis = analyze(&facts_from_trace(&philosophers(true)));
    assert_eq!(
        only(&analysis).suppression(),
        Some(&Suppression::ForkJoinOrdered)
    );
    assert!(analysis.findings.is_empty());
    // Spawned before the join: the two run together, and the run that was
    // seen happened to be sequential.
    let findings = analyze(&facts_from_trace(&philosophers(false))).findings;
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].kind, Kind::LockOrderInversion);
    assert!(findings[0].notes[0].contains("spawn/join does not order them"));
}

#[test]
fn a_join_while_holding_a_lock_does_not_hide_the_deadlock() {
    // thread 2 holds `b`, then joins thread 1 (which holds `a` and wants
    // `b`), then takes `a`: the requests are ordered, but thread 2 holds `b`
    // from before the join, so both can be stuck at once.
    let mut trace = Trace::new();
    let main = trace.thread("main");
    let t1 = trace.thread("thread 1");
    let t2 = trace.thread("thread 2");
    let a = trace.object(ObjectKind::Mutex, "a", at(1));
    let b = trace.object(ObjectKind::Mutex, "b", at(2));
    trace.push(main, Action::Spawn { child: t1 }, at(3));
    trace.push(main, Action::Spawn { child: t2 }, at(4));
    trace.push(t2, Action::LockAcquire { lock: b, mode: X }, at(20));
    trace.push(t1, Action::LockAcquire { lock: a, mode: X }, at(10));
    trace.push(t1, Action::LockRequest { lock: b, mode: X }, at(11));
    trace.push(t2, Action::LockRelease { lock: b, mode: X }, at(21));
    trace.push(t1, Action::LockAcquire { lock: b, mode: X }, at(11));
    trace.push(t1, Action::LockRelease { lock: b, mode: X }, at(12));
    trace.push(t1, Action::LockRelease { lock: a, mode: X }, at(13));
    trace.push(t2, Action::LockAcquire { lock: b, mode: X }, at(22));
    trace.push(t2, Action::Join { child: t1 }, at(23));
    trace.push(t2, Action::LockAcquire { lock: a, mode: X }, at(24));
    let analysis = analyze(&facts_from_trace(&trace));
    assert!(only(&analysis).is_kept(), "{:?}", only(&analysis).verdict);
}

#[test]
fn a_cycle_of_readers_only_cannot_deadlock_without_a_writer() {
    let facts = vec![
        nested("thread 1", "x", S, "y", S, 10),
        nested("thread 2", "y", S, "x", S, 20),
    ];
    let analysis = analyze(&facts);
    assert!(matches!(
        only(&analysis).suppression(),
        Some(Suppression::SharedOnly { .. })
    ));
    assert!(analysis.findings.is_empty());
}

#[test]
fn readers_deadlock_when_writers_can_queue_at_every_lock() {
    let mut facts = vec![
        nested("thread 1", "x", S, "y", S, 10),
        nested("thread 2", "y", S, "x", S, 20),
        Acquisition::new(LockKey::named("x"), X, at(30)).by("thread 3"),
    ];
    // A writer of `x` only: at `y` two readers still pass each other.
    assert!(!only(&analyze(&facts)).is_kept());
    facts.push(Acquisition::new(LockKey::named("y"), X, at(40)).by("thread 3"));
    let analysis = analyze(&facts);
    assert!(only(&analysis).is_kept());
    let note = &analysis.findings[0].notes[0];
    assert!(
        note.contains("`y` and `x` is read on both sides") || note.contains("read on both sides"),
        "{note}"
    );
    // Recursive-safe reads never queue behind a writer.
    for fact in &mut facts[..2] {
        fact.flavor.recursive = true;
    }
    assert!(!only(&analyze(&facts)).is_kept());
}

#[test]
fn a_reader_and_a_writer_meeting_at_a_lock_block() {
    // Each holds one rwlock for reading and asks for the other for writing.
    let facts = vec![
        nested("thread 1", "x", S, "y", X, 10),
        nested("thread 2", "y", S, "x", X, 20),
    ];
    let analysis = analyze(&facts);
    assert!(only(&analysis).is_kept());
    assert!(analysis.findings[0].notes[0].contains("one side is exclusive"));
}

#[test]
fn three_threads_in_a_ring() {
    let facts = vec![
        nested("thread 1", "a", X, "b", X, 10),
        nested("thread 2", "b", X, "c", X, 20),
        nested("thread 3", "c", X, "a", X, 30),
    ];
    let analysis = analyze(&facts);
    assert_eq!(analysis.findings.len(), 1);
    assert_eq!(
        analysis.findings[0].message,
        "locks `a`, `b` and `c` are taken in a cycle: `a` → `b` → `c` → `a`"
    );
    assert_eq!(analysis.findings[0].locations.len(), 6);
    // Two of the three edges from one thread: no deadlock with two threads.
    let facts = vec![
        nested("thread 1", "a", X, "b", X, 10),
        nested("thread 1", "b", X, "c", X, 20),
        nested("thread 3", "c", X, "a", X, 30),
    ];
    let analysis = analyze(&facts);
    assert_eq!(
        only(&analysis).suppression(),
        Some(&Suppression::SingleThread { agent: None })
    );
}

#[test]
fn facts_from_the_scanner_have_no_threads_and_still_count() {
    let facts = vec![
        Acquisition::new(LockKey::named("Bank.log"), X, at(41)).holding(Held::new(
            LockKey::named("Bank.accounts"),
            X,
            at(40),
        )),
        Acquisition::new(LockKey::named("Bank.accounts"), X, at(81)).holding(Held::new(
            LockKey::named("Bank.log"),
            X,
            at(80),
        )),
    ];
    let analysis = analyze(&facts);
    let f = &analysis.findings[0];
    assert_eq!(
        f.message,
        "locks `Bank.accounts` and `Bank.log` are taken in opposite orders"
    );
    assert_eq!(
        f.locations[0].label,
        "`Bank.log` taken while `Bank.accounts` is held (some thread)"
    );
    assert!(f.notes[0].contains("threads are not known"));
    assert!(f.notes[0].contains("no spawn/join order is known"));
}

#[test]
fn a_repeated_inversion_is_one_cycle_with_one_instance_per_edge() {
    let mut facts = Vec::new();
    for _ in 0..1000 {
        facts.extend(abba());
    }
    let analysis = analyze(&facts);
    assert_eq!(analysis.findings.len(), 1);
    let graph = LockGraph::build(&facts);
    assert_eq!(graph.edge_count(), 2);
    assert!((0..2).all(|e| graph.edge(e).2.len() == 1));
}

#[test]
fn relocking_a_mutex_is_a_double_lock() {
    let facts = vec![nested("thread 1", "m", X, "m", X, 10)];
    let analysis = analyze(&facts);
    assert!(analysis.cycles.is_empty());
    let f = &analysis.findings[0];
    assert_eq!(f.kind, Kind::DoubleLock);
    assert_eq!(
        f.message,
        "thread 1 locks `m` again while already holding it"
    );
    assert_eq!(f.locations[0].line, 11);
    assert_eq!(
        f.locations[1].label,
        "`m` first locked here; its guard is still alive"
    );
    assert!(f.trace.as_ref().unwrap()[1].highlight);
}

#[test]
fn rwlock_upgrades_and_downgrades_are_double_locks_and_rereads_are_warnings() {
    let kinds = |outer, inner| -> Vec<(Kind, Severity)> {
        relock_findings(&[nested("thread 1", "rw", outer, "rw", inner, 10)])
            .iter()
            .map(|f| (f.kind, f.severity))
            .collect()
    };
    assert_eq!(kinds(S, X), vec![(Kind::DoubleLock, Severity::Error)]);
    assert_eq!(kinds(X, S), vec![(Kind::DoubleLock, Severity::Error)]);
    assert_eq!(kinds(S, S), vec![(Kind::RecursiveRead, Severity::Warning)]);
    let upgrade = relock_findings(&[nested("thread 1", "rw", S, "rw", X, 10)]);
    assert!(upgrade[0]
        .message
        .contains("asks to write `rw` while holding a read guard"));
    let mut recursive = nested("thread 1", "rw", S, "rw", S, 10);
    recursive.flavor.recursive = true;
    assert!(relock_findings(&[recursive]).is_empty());
    let mut try_lock = nested("thread 1", "m", X, "m", X, 10);
    try_lock.flavor.blocking = false;
    assert!(relock_findings(&[try_lock]).is_empty());
}

#[test]
fn a_relock_seen_in_a_trace_is_reported_once() {
    let mut trace = Trace::new();
    let t = trace.thread("thread 1");
    let m = trace.object(ObjectKind::Mutex, "m", at(1));
    for _ in 0..3 {
        trace.push(t, Action::LockAcquire { lock: m, mode: X }, at(10));
        trace.push(t, Action::LockRequest { lock: m, mode: X }, at(11));
    }
    let findings = analyze(&facts_from_trace(&trace)).findings;
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].kind, Kind::DoubleLock);
}

#[test]
fn findings_come_in_order_cycles_then_relocks() {
    let mut facts = abba();
    facts.push(nested("thread 3", "m", X, "m", X, 50));
    let kinds: Vec<_> = analyze(&facts).findings.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, vec![Kind::LockOrderInversion, Kind::DoubleLock]);
    assert_eq!(lock_order_findings(&facts).len(), 1);
}

#[test]
fn search_limits_are_reported_in_the_findings() {
    let names: Vec<String> = (0..6).map(|i| format!("l{i}")).collect();
    let mut facts = Vec::new();
    for (i, a) in names.iter().enumerate() {
        for (j, b) in names.iter().enumerate() {
            if i != j {
                facts.push(nested(
                    &format!("thread {i}{j}"),
                    a,
                    X,
                    b,
                    X,
                    10 * i as u32 + j as u32,
                ));
            }
        }
    }
    let limits = SearchLimits {
        max_cycles: 3,
        ..SearchLimits::default()
    };
    let analysis = analyze_with(&facts, &limits);
    assert!(analysis.stats.truncated);
    assert_eq!(analysis.cycles.len(), 3);
    assert!(analysis.findings[0]
        .notes
        .iter()
        .any(|n| n.contains("stopped at its bounds")));
}

/// Three philosophers, each holding a seat of a waiter that admits `seats`.
fn philosophers_with_waiter(seats: u64) -> Vec<Acquisition> {
    let seat = |agent: &str, outer: &str, inner: &str, line| {
        nested(agent, outer, X, inner, X, line).with_permits(&[Permit {
            resource: LockKey::named("waiter"),
            units: 1,
            capacity: seats,
        }])
    };
    vec![
        seat("thread 1", "fork 0", "fork 1", 10),
        seat("thread 2", "fork 1", "fork 2", 20),
        seat("thread 3", "fork 2", "fork 0", 30),
    ]
}

#[test]
fn a_counted_gate_admitting_fewer_than_the_cycle_needs_suppresses_it() {
    let analysis = analyze(&philosophers_with_waiter(2));
    assert_eq!(
        only(&analysis).suppression(),
        Some(&Suppression::CountedGate {
            resource: LockKey::named("waiter"),
            capacity: 2
        })
    );
    assert!(analysis.findings.is_empty());
}

#[test]
fn a_counted_gate_admitting_every_side_does_not() {
    let analysis = analyze(&philosophers_with_waiter(3));
    assert!(only(&analysis).is_kept());
    assert_eq!(analysis.findings.len(), 1);
}

/// Every ordered pair of `locks` taken both ways, each by its own thread:
/// the locks form one strongly connected group with many elementary cycles.
fn tangle(locks: &[&str], first_line: u32) -> Vec<Acquisition> {
    let mut facts = Vec::new();
    let mut line = first_line;
    for (i, a) in locks.iter().enumerate() {
        for b in &locks[i + 1..] {
            facts.push(nested(&format!("thread {line}"), a, X, b, X, line));
            facts.push(nested(
                &format!("thread {}", line + 5),
                b,
                X,
                a,
                X,
                line + 5,
            ));
            line += 10;
        }
    }
    facts
}

#[test]
fn one_group_of_four_locks_with_many_cycles_is_one_finding() {
    let facts = tangle(&["a", "b", "c", "d"], 100);
    let analysis = analyze(&facts);
    let kept = analysis.cycles.iter().filter(|c| c.is_kept()).count();
    assert!(kept > 9, "{kept} elementary cycles");
    assert_eq!(analysis.findings.len(), 1, "{:#?}", analysis.findings);
    let f = &analysis.findings[0];
    assert_eq!(f.kind, Kind::LockOrderInversion);
    // The headline is a shortest cycle, from the edge asked for first.
    assert!(
        f.message
            .starts_with("locks `a` and `b` are taken in opposite orders (the shortest of"),
        "{}",
        f.message
    );
    assert!(
        f.message.contains("among `a`, `b`, `c` and `d`"),
        "{}",
        f.message
    );
    // Every edge of the group, with where it was drawn.
    for (i, fact) in facts.iter().enumerate() {
        let label = format!(
            "`{}` taken while `{}` is held ({})",
            fact.lock,
            fact.held[0].lock,
            fact.agent.as_deref().unwrap()
        );
        assert!(
            f.locations
                .iter()
                .any(|l| l.line == fact.site.line && l.label == label),
            "edge {i} ({label}) is not listed: {:#?}",
            f.locations
        );
    }
    assert!(
        f.notes.iter().any(|n| n.contains("also close")),
        "{:?}",
        f.notes
    );
    let help = f.help.as_deref().unwrap();
    assert!(
        help.contains("`a` before `b` before `c` before `d`"),
        "{help}"
    );
    // The trace is the headline's interleaving: two threads, two locks.
    assert_eq!(f.trace.as_ref().unwrap().len(), 4);
}

#[test]
fn two_disjoint_groups_are_two_findings() {
    let mut facts = tangle(&["a", "b", "c"], 100);
    facts.extend(tangle(&["x", "y"], 500));
    let findings = lock_order_findings(&facts);
    assert_eq!(findings.len(), 2, "{findings:#?}");
    assert!(
        findings[0].message.contains("`a`"),
        "{}",
        findings[0].message
    );
    assert!(
        findings[1].message.contains("`x` and `y`"),
        "{}",
        findings[1].message
    );
    assert!(
        !findings[1].message.contains("shortest"),
        "{}",
        findings[1].message
    );
}

/// `agent` reads `rw` again in `helper` at line 50, reached from a call at
/// `line + 1` while holding the read guard taken at `line`.
fn read_again_through(agent: &str, caller: &str, line: u32) -> Acquisition {
    let mut fact = nested(agent, "rw", S, "rw", S, line);
    fact.site = at(50);
    fact.function = Some("helper".into());
    fact.path = vec![CallStep {
        caller: caller.into(),
        callee: "helper".into(),
        site: at(line + 1),
    }];
    fact
}

#[test]
fn a_recursive_read_is_one_finding_per_function_and_lock_whatever_the_callers() {
    let facts = vec![
        read_again_through("thread 1", "first", 10),
        read_again_through("thread 1", "second", 20),
        read_again_through("thread 2", "third", 30),
    ];
    let findings = relock_findings(&facts);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f.kind, Kind::RecursiveRead);
    assert_eq!(
        f.message,
        "thread 1 reads `rw` again while its read guard lives (through `helper`)"
    );
    assert_eq!(f.locations[0].line, 11, "the first caller's call");
    assert_eq!(
        f.locations[0].label,
        "calls `helper` while `rw` is held; it is read again inside"
    );
    assert!(f
        .locations
        .iter()
        .any(|l| l.line == 50 && l.label == "`rw` read here, in `helper`"));
    let steps: Vec<&str> = f
        .trace
        .as_ref()
        .unwrap()
        .iter()
        .map(|s| s.action.as_str())
        .collect();
    assert_eq!(
        steps,
        vec!["read `rw`", "call `helper`", "wait to read `rw`"]
    );
    assert!(
        f.notes
            .iter()
            .any(|n| n == "also reached from 2 other callers with the read guard held"),
        "{:?}",
        f.notes
    );
    // Another function reading the same lock again is its own finding.
    let mut elsewhere = read_again_through("thread 1", "first", 60);
    elsewhere.function = Some("other".into());
    elsewhere.path[0].callee = "other".into();
    elsewhere.site = at(70);
    let mut facts = facts;
    facts.push(elsewhere);
    assert_eq!(relock_findings(&facts).len(), 2);
}

#[test]
fn upgradable_and_reentrant_flavours_decide_a_relock() {
    let flavoured = |upgradable_first, upgradable_again, reentrant| {
        let mut fact = nested("thread 1", "rw", S, "rw", S, 10);
        fact.held[0].flavor.upgradable = upgradable_first;
        fact.flavor.upgradable = upgradable_again;
        fact.flavor.reentrant = reentrant;
        relock_findings(&[fact])
    };
    let two = flavoured(true, true, false);
    assert_eq!(two.len(), 1);
    assert_eq!(two[0].kind, Kind::DoubleLock);
    assert_eq!(
        two[0].message,
        "thread 1 takes an upgradable read of `rw` while holding one"
    );
    assert!(
        flavoured(true, false, false).is_empty(),
        "a plain read shares the lock with an upgradable one"
    );
    let mut reentrant = nested("thread 1", "m", X, "m", X, 10);
    reentrant.flavor.reentrant = true;
    assert!(relock_findings(&[reentrant]).is_empty());
}

#[test]
fn a_guard_kept_by_a_match_scrutinee_says_so() {
    let mut fact = nested("thread 1", "m", X, "m", X, 10);
    fact.held[0].life = GuardLife::Scrutinee("match");
    let f = &relock_findings(&[fact])[0];
    assert_eq!(
        f.locations[1].label,
        "`m` locked here, in the `match`'s temporary; still held"
    );
    assert!(f
        .notes
        .iter()
        .any(|n| n.contains("until the end of the whole `match`")));
}

#[test]
fn a_lock_held_across_a_join_of_a_thread_that_takes_it_is_an_inversion() {
    let held = Held::new(LockKey::named("log"), X, at(10));
    let taken = Acquisition::new(LockKey::named("log"), X, at(20)).by("thread 1");
    let f = held_across_join(&at(12), "main", &held, &taken).unwrap();
    assert_eq!(f.kind, Kind::LockOrderInversion);
    let labels: Vec<(u32, &str)> = f
        .locations
        .iter()
        .map(|l| (l.line, l.label.as_str()))
        .collect();
    assert_eq!(
        labels,
        vec![
            (12, "main waits here for thread 1 to end, holding `log`"),
            (10, "`log` taken here (main)"),
            (20, "thread 1 takes `log` here"),
        ]
    );
    // Two readers do not wait for each other; a try-lock does not wait.
    let read = Held::new(LockKey::named("log"), S, at(10));
    let read_taken = Acquisition::new(LockKey::named("log"), S, at(20)).by("thread 1");
    assert!(held_across_join(&at(12), "main", &read, &read_taken).is_none());
    let mut tried = taken.clone();
    tried.flavor.blocking = false;
    assert!(held_across_join(&at(12), "main", &held, &tried).is_none());
}

#[test]
fn an_acquisition_against_a_declared_order_is_an_inversion() {
    let declared = vec![vec!["Bank.accounts".to_string(), "Bank.log".to_string()]];
    let against = nested("thread 1", "Bank.log", X, "Bank.accounts", X, 10);
    let along = nested("thread 1", "Bank.accounts", X, "Bank.log", X, 20);
    let findings = declared_order_findings(&[against, along], &declared);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(
        findings[0].message,
        "thread 1 takes `Bank.accounts` while holding `Bank.log`, against the declared order \
         (`Bank.accounts` before `Bank.log`)"
    );
    assert_eq!(findings[0].locations[0].line, 11);
    assert_eq!(findings[0].locations[1].line, 10);
}
