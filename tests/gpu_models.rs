//! Models that drive simulated GPU streams through `interlock::gpu`, run by
//! the runtime: each bug must be found (kind and line) and each fixed twin
//! must be clean. They follow the trace fixtures in `fixtures/gpu/`.

use interlock::gpu::{Device, Space};
use interlock::sync::atomic::{AtomicBool, Ordering};
use interlock::sync::{mpsc, Arc, Barrier, Mutex, RwLock};
use interlock::{thread, Builder, Engine, Kind, Report};

mod model_checks;

/// The finding of `kind` has a location at `line` of this file.
fn assert_found_at(report: &Report, kind: Kind, line: u32) {
    model_checks::assert_found_at(report, kind, "gpu_models.rs", line);
}

/// The line of this file that ends with the comment `// NAME`.
fn marker(name: &str) -> u32 {
    model_checks::marker(include_str!("gpu_models.rs"), name)
}

fn assert_clean(report: &Report) {
    assert!(report.is_clean(), "expected a clean report, got:\n{report}");
    assert!(report.findings().is_empty(), "{report}");
    assert!(report.summary.executions > 0);
}

/// Exactly the finding kinds `kinds` (in any order, each at least once).
fn assert_kinds(report: &Report, kinds: &[Kind]) {
    let mut found: Vec<Kind> = report.findings().iter().map(|f| f.kind).collect();
    found.dedup();
    for kind in kinds {
        assert!(found.contains(kind), "expected {kind}, got:\n{report}");
    }
    assert!(
        found.iter().all(|k| kinds.contains(k)),
        "expected only {kinds:?}, got:\n{report}"
    );
}

#[test]
fn a_missing_event_is_a_stream_race() {
    let (write, read) = (marker("missing_write"), marker("missing_read"));
    let report = Builder::new().check(|| {
        let device = Device::new();
        let side = device.stream(false);
        let x = device.alloc("x", Space::Device);
        let y = device.alloc("y", Space::Device);
        side.launch("produce").writes(&x); // missing_write
        device.default_stream().kernel("consume", &[&x], &[&y]); // missing_read
    });
    assert_kinds(&report, &[Kind::StreamRace]);
    assert_found_at(&report, Kind::StreamRace, write);
    assert_found_at(&report, Kind::StreamRace, read);
    let finding = &report.findings()[0];
    assert!(
        finding.message.contains(&format!("line {write}"))
            && finding.message.contains(&format!("line {read}"))
            && !finding.message.contains("ops["),
        "{}",
        finding.message
    );
    assert!(
        finding
            .help
            .as_deref()
            .is_some_and(|h| h.contains("record an event on stream 1")),
        "{finding:?}"
    );
    assert!(
        finding
            .notes
            .iter()
            .any(|n| n.contains("created non-blocking")),
        "{finding:?}"
    );
    assert_eq!(finding.execution, Some(1));
}

#[test]
fn an_event_between_the_streams_orders_them() {
    let report = Builder::new().check(|| {
        let device = Device::new();
        let (s1, s2) = (device.stream(false), device.stream(false));
        let x = device.alloc("x", Space::Device);
        let produced = device.event("produced");
        s1.launch("produce").writes(&x);
        produced.record(&s1);
        s2.wait_event(&produced);
        s2.launch("consume").reads(&x);
    });
    assert_clean(&report);
}

#[test]
fn waiting_before_the_record_orders_nothing() {
    let (write, read, wait) = (
        marker("early_write"),
        marker("early_read"),
        marker("early_wait"),
    );
    let report = Builder::new().check(|| {
        let device = Device::new();
        let (s1, s2) = (device.stream(false), device.stream(false));
        let x = device.alloc("x", Space::Device);
        let produced = device.event("produced");
        s1.launch("produce").writes(&x); // early_write
        s2.wait_event(&produced); // early_wait
        s1.record_event(&produced);
        s2.launch("consume").reads(&x); // early_read
    });
    assert_kinds(&report, &[Kind::StreamRace]);
    assert_found_at(&report, Kind::StreamRace, write);
    assert_found_at(&report, Kind::StreamRace, read);
    let finding = &report.findings()[0];
    assert!(
        finding
            .notes
            .iter()
            .any(|n| n.contains("had not been recorded yet") && n.contains(&format!("line {wait}"))),
        "{finding:?}"
    );
}

#[test]
fn a_record_after_the_wait_does_not_change_what_it_waited_for() {
    let (write, read) = (marker("rerecord_write"), marker("rerecord_read"));
    let report = Builder::new().check(|| {
        let device = Device::new();
        let (s1, s2) = (device.stream(false), device.stream(false));
        let x = device.alloc("x", Space::Device);
        let produced = device.event("produced");
        produced.record(&s1);
        s1.launch("produce").writes(&x); // rerecord_write
        s2.wait_event(&produced);
        produced.record(&s1);
        s2.launch("consume").reads(&x); // rerecord_read
    });
    assert_kinds(&report, &[Kind::StreamRace]);
    assert_found_at(&report, Kind::StreamRace, write);
    assert_found_at(&report, Kind::StreamRace, read);
}

/// The legacy default stream between two kernels of a blocking stream: the
/// first `x` then `y` are handed over through its barrier.
fn legacy_default_stream(blocking: bool) -> Report {
    Builder::new().check(move || {
        let device = Device::new();
        let s1 = device.stream(blocking);
        let x = device.alloc("x", Space::Device);
        let y = device.alloc("y", Space::Device);
        s1.launch("produce").writes(&x); // legacy_write
        device
            .default_stream()
            .launch("consume") // legacy_read
            .reads(&x)
            .writes(&y);
        s1.launch("after").reads(&y);
    })
}

#[test]
fn the_legacy_default_stream_orders_a_blocking_stream() {
    assert_clean(&legacy_default_stream(true));
}

#[test]
fn the_legacy_default_stream_does_not_order_a_non_blocking_stream() {
    let report = legacy_default_stream(false);
    assert_kinds(&report, &[Kind::StreamRace]);
    assert_found_at(&report, Kind::StreamRace, marker("legacy_write"));
    assert_found_at(&report, Kind::StreamRace, marker("legacy_read"));
}

#[test]
fn the_per_thread_default_stream_is_an_ordinary_stream() {
    let (write, read) = (marker("per_thread_write"), marker("per_thread_read"));
    let report = Builder::new().check(|| {
        let device = Device::per_thread();
        let s1 = device.stream(true);
        let x = device.alloc("x", Space::Device);
        let y = device.alloc("y", Space::Device);
        s1.launch("produce").writes(&x); // per_thread_write
        device.default_stream().kernel("consume", &[&x], &[&y]); // per_thread_read
        s1.launch("after").reads(&y);
    });
    assert_kinds(&report, &[Kind::StreamRace]);
    assert_found_at(&report, Kind::StreamRace, write);
    assert_found_at(&report, Kind::StreamRace, read);
    assert!(
        report.findings()[0]
            .notes
            .iter()
            .any(|n| n.contains("per-thread")),
        "{report}"
    );
}

/// A non-blocking device-to-host copy, then the host reads the result.
fn d2h_then_read(synchronize: bool) -> Report {
    Builder::new().check(move || {
        let device = Device::new();
        let s1 = device.stream(false);
        let out = device.alloc("out", Space::Device);
        let host = device.alloc("host_out", Space::Pinned);
        s1.launch("compute").writes(&out);
        s1.memcpy_async(&host, &out); // d2h_copy
        if synchronize {
            s1.synchronize();
        }
        host.host_read(); // d2h_read
    })
}

#[test]
fn reading_a_non_blocking_copy_on_the_host_races() {
    let report = d2h_then_read(false);
    assert_kinds(&report, &[Kind::StreamRace]);
    assert_found_at(&report, Kind::StreamRace, marker("d2h_copy"));
    assert_found_at(&report, Kind::StreamRace, marker("d2h_read"));
    assert!(
        report.findings()[0]
            .help
            .as_deref()
            .is_some_and(|h| h.starts_with("synchronize stream 1")),
        "{report}"
    );
}

#[test]
fn reading_a_non_blocking_copy_after_a_synchronize_is_safe() {
    assert_clean(&d2h_then_read(true));
}

#[test]
fn the_host_overwriting_a_pinned_source_races_with_its_copy() {
    let (copy, overwrite) = (marker("pinned_copy"), marker("pinned_overwrite"));
    let report = Builder::new().check(|| {
        let device = Device::new();
        let s1 = device.stream(false);
        let staging = device.alloc("staging", Space::Pinned);
        let batch = device.alloc("batch", Space::Device);
        staging.host_write();
        s1.memcpy_async(&batch, &staging); // pinned_copy
        s1.launch("train_step").reads(&batch);
        staging.host_write(); // pinned_overwrite
    });
    assert_kinds(&report, &[Kind::StreamRace]);
    assert_found_at(&report, Kind::StreamRace, copy);
    assert_found_at(&report, Kind::StreamRace, overwrite);
}

/// PyTorch: `x` made on the default stream, used on a side stream, then
/// freed; the caching allocator hands its memory to `y`.
fn free_after_side_use(record_stream: bool) -> Report {
    Builder::new().check(move || {
        let device = Device::new();
        let main = device.default_stream();
        let side = device.stream(false);
        let x = main.alloc("x");
        main.launch("init").writes(&x);
        let ready = device.event("ready");
        ready.record(&main);
        side.wait_event(&ready);
        let z = side.alloc("z");
        side.launch("use").reads(&x).writes(&z); // side_use
        if record_stream {
            x.record_stream(&side);
        }
        x.free(); // free_x
        let y = main.alloc("y"); // reuse
        main.launch("overwrite").writes(&y);
    })
}

#[test]
fn freeing_without_record_stream_is_a_use_after_free() {
    let report = free_after_side_use(false);
    assert_kinds(&report, &[Kind::StreamUseAfterFree]);
    assert_found_at(&report, Kind::StreamUseAfterFree, marker("free_x"));
    assert_found_at(&report, Kind::StreamUseAfterFree, marker("side_use"));
    assert_found_at(&report, Kind::StreamUseAfterFree, marker("reuse"));
    let finding = &report.findings()[0];
    assert!(
        finding
            .help
            .as_deref()
            .is_some_and(|h| h.contains("record_stream")),
        "{finding:?}"
    );
}

#[test]
fn freeing_after_record_stream_is_safe() {
    assert_clean(&free_after_side_use(true));
}

#[test]
fn a_device_synchronize_orders_every_stream_before_the_host() {
    let report = Builder::new().check(|| {
        let device = Device::new();
        let (s1, s2) = (device.stream(false), device.stream(false));
        let a = device.alloc("a", Space::Pinned);
        let b = device.alloc("b", Space::Pinned);
        s1.launch("fill_a").writes(&a);
        s2.memset_async(&b);
        device.synchronize();
        a.host_read();
        b.host_write();
        device.free(&a);
        device.free(&b);
    });
    assert_clean(&report);
}

#[test]
fn a_host_function_after_the_work_it_reads_is_safe() {
    let report = Builder::new().check(|| {
        let device = Device::new();
        let s1 = device.stream(false);
        let metrics = device.alloc("metrics", Space::Device);
        let host_metrics = device.alloc("host_metrics", Space::Pinned);
        s1.launch("evaluate").writes(&metrics);
        s1.memcpy_async(&host_metrics, &metrics);
        s1.host_fn("log_metrics").reads(&host_metrics);
        s1.launch("reset").writes(&metrics);
    });
    assert_clean(&report);
}

#[test]
fn two_streams_writing_one_buffer_race() {
    let (first, second) = (marker("first_write"), marker("second_write"));
    let report = Builder::new().check(|| {
        let device = Device::new();
        let (s1, s2) = (device.stream(true), device.stream(true));
        let x = device.alloc("x", Space::Device);
        s1.memset_async(&x); // first_write
        s2.launch("fill").writes(&x); // second_write
    });
    assert_kinds(&report, &[Kind::StreamRace]);
    assert_found_at(&report, Kind::StreamRace, first);
    assert_found_at(&report, Kind::StreamRace, second);
}

/// Two host threads, each on its own stream, touch one buffer; with `lock`,
/// each synchronizes its stream before releasing a mutex the other takes.
fn two_host_threads(lock: bool) -> Report {
    Builder::new().check(move || {
        let device = Device::new();
        let x = device.alloc("x", Space::Device);
        let gate = Arc::new(Mutex::new(()));
        let (d, x2, g) = (device.clone(), x.clone(), gate.clone());
        let worker = thread::spawn(move || {
            let s1 = d.stream(false);
            let _held = lock.then(|| g.lock().unwrap());
            s1.launch("fill").writes(&x2); // worker_fill
            s1.synchronize();
        });
        let s2 = device.stream(false);
        {
            let _held = lock.then(|| gate.lock().unwrap());
            s2.launch("sum").reads(&x); // main_sum
            s2.synchronize();
        }
        worker.join().unwrap();
    })
}

#[test]
fn two_host_threads_ordered_by_a_mutex_are_safe() {
    let report = two_host_threads(true);
    assert_clean(&report);
    assert!(report.summary.executions > 1, "{report}");
}

#[test]
fn two_host_threads_with_nothing_between_them_race() {
    let report = two_host_threads(false);
    assert_kinds(&report, &[Kind::StreamRace]);
    assert_found_at(&report, Kind::StreamRace, marker("worker_fill"));
    assert_found_at(&report, Kind::StreamRace, marker("main_sum"));
    assert!(report.findings()[0].execution.is_some());
}

#[test]
fn a_mutex_without_a_synchronize_does_not_order_the_gpu_work() {
    let (fill, sum) = (marker("unsynced_fill"), marker("unsynced_sum"));
    let report = Builder::new().check(move || {
        let device = Device::new();
        let x = device.alloc("x", Space::Device);
        let gate = Arc::new(Mutex::new(false));
        let (d, x2, g) = (device.clone(), x.clone(), gate.clone());
        let worker = thread::spawn(move || {
            let s1 = d.stream(false);
            let mut filled = g.lock().unwrap();
            s1.launch("fill").writes(&x2); // unsynced_fill
            *filled = true;
        });
        let s2 = device.stream(false);
        if *gate.lock().unwrap() {
            s2.launch("sum").reads(&x); // unsynced_sum
        }
        worker.join().unwrap();
    });
    assert_kinds(&report, &[Kind::StreamRace]);
    assert_found_at(&report, Kind::StreamRace, fill);
    assert_found_at(&report, Kind::StreamRace, sum);
}

#[test]
fn an_event_recorded_on_another_thread_orders_only_if_recorded_before_the_wait() {
    // The worker records `done` after its work; the main thread waits on it
    // with nothing ordering the wait after the record: in the interleavings
    // where the wait comes first, it orders nothing.
    let read = marker("cross_thread_read");
    let report = Builder::new().check(|| {
        let device = Device::new();
        let x = device.alloc("x", Space::Device);
        let done = device.event("done");
        let (d, x2, e) = (device.clone(), x.clone(), done.clone());
        let worker = thread::spawn(move || {
            let s1 = d.stream(false);
            s1.launch("produce").writes(&x2);
            e.record(&s1);
        });
        let s2 = device.stream(false);
        s2.wait_event(&done);
        s2.launch("consume").reads(&x); // cross_thread_read
        worker.join().unwrap();
    });
    assert_kinds(&report, &[Kind::StreamRace]);
    assert_found_at(&report, Kind::StreamRace, read);
}

#[test]
fn a_channel_hands_the_synchronized_result_to_another_thread() {
    let report = Builder::new().check(|| {
        let device = Device::new();
        let result = device.alloc("result", Space::Pinned);
        let (tx, rx) = mpsc::channel();
        let (d, r) = (device.clone(), result.clone());
        let worker = thread::spawn(move || {
            let s1 = d.stream(false);
            let scratch = d.alloc("scratch", Space::Device);
            s1.launch("compute").writes(&scratch);
            s1.memcpy_async(&r, &scratch);
            s1.synchronize();
            tx.send(()).unwrap();
        });
        rx.recv().unwrap();
        result.host_read();
        worker.join().unwrap();
    });
    assert_clean(&report);
}

#[test]
fn a_barrier_orders_what_each_thread_synchronized_before_it() {
    let report = Builder::new().check(|| {
        let device = Device::new();
        let parts = [
            device.alloc("left", Space::Pinned),
            device.alloc("right", Space::Pinned),
        ];
        let barrier = Arc::new(Barrier::new(2));
        let (d, mine, theirs, b) = (
            device.clone(),
            parts[1].clone(),
            parts[0].clone(),
            barrier.clone(),
        );
        let worker = thread::spawn(move || {
            let s = d.stream(false);
            s.launch("fill_right").writes(&mine);
            s.synchronize();
            b.wait();
            theirs.host_read();
        });
        let s = device.stream(false);
        s.launch("fill_left").writes(&parts[0]);
        s.synchronize();
        barrier.wait();
        parts[1].host_read();
        worker.join().unwrap();
    });
    assert_clean(&report);
}

#[test]
fn a_release_store_hands_the_synchronized_result_to_another_thread() {
    fn run(order: Ordering) -> Report {
        Builder::new().check(move || {
            let device = Device::new();
            let result = device.alloc("result", Space::Pinned);
            let ready = Arc::new(AtomicBool::new(false));
            let (d, r, flag) = (device.clone(), result.clone(), ready.clone());
            let worker = thread::spawn(move || {
                let s1 = d.stream(false);
                s1.launch("compute").writes(&r);
                s1.synchronize();
                flag.store(true, order);
            });
            if ready.load(if order == Ordering::Relaxed {
                Ordering::Relaxed
            } else {
                Ordering::Acquire
            }) {
                result.host_read(); // flag_read
            }
            worker.join().unwrap();
        })
    }
    assert_clean(&run(Ordering::Release));
    let relaxed = run(Ordering::Relaxed);
    assert_kinds(&relaxed, &[Kind::StreamRace]);
    assert_found_at(&relaxed, Kind::StreamRace, marker("flag_read"));
}

/// Two threads under read guards of one `RwLock`: the loader fills a
/// pinned buffer and synchronizes, the reader reads it on the host once it
/// sees a flag. Read guards order nothing among themselves, so only the
/// flag's memory order can hand the synchronize over.
fn two_readers(flag: Ordering) -> Report {
    Builder::new().check(move || {
        let device = Device::new();
        let staging = device.alloc("staging", Space::Pinned);
        let settings = Arc::new(RwLock::new(16usize));
        let staged = Arc::new(AtomicBool::new(false));
        let (d, s, cfg, done) = (
            device.clone(),
            staging.clone(),
            settings.clone(),
            staged.clone(),
        );
        let loader = thread::spawn(move || {
            let batch = cfg.read().unwrap();
            let stream = d.stream(false);
            stream.launch("fill").writes(&s); // readers_fill
            stream.synchronize();
            let filled = *batch > 0;
            drop(batch);
            done.store(filled, flag);
        });
        let load = if flag == Ordering::Relaxed {
            Ordering::Relaxed
        } else {
            Ordering::Acquire
        };
        if staged.load(load) {
            let batch = settings.read().unwrap();
            staging.host_read(); // readers_read
            drop(batch);
        }
        loader.join().unwrap();
    })
}

#[test]
fn read_guards_of_one_rwlock_do_not_order_a_synchronize_before_a_host_read() {
    let report = two_readers(Ordering::Relaxed);
    assert_kinds(&report, &[Kind::StreamRace]);
    assert_found_at(&report, Kind::StreamRace, marker("readers_fill"));
    assert_found_at(&report, Kind::StreamRace, marker("readers_read"));
    // The interleaving shows the relaxed load the reader trusted.
    let steps: Vec<&str> = report.findings()[0]
        .trace
        .iter()
        .flatten()
        .map(|s| s.action.as_str())
        .collect();
    assert!(steps.iter().any(|s| s.contains("(Relaxed)")), "{steps:?}");
}

#[test]
fn a_release_acquire_flag_orders_the_two_readers() {
    assert_clean(&two_readers(Ordering::Release));
}

#[test]
fn a_synchronize_on_one_thread_does_not_order_another() {
    let read = marker("other_thread_read");
    let report = Builder::new().check(|| {
        let device = Device::new();
        let s1 = device.stream(false);
        let result = device.alloc("result", Space::Pinned);
        s1.launch("compute").writes(&result);
        let stream = s1.clone();
        let worker = thread::spawn(move || stream.synchronize());
        result.host_read(); // other_thread_read
        worker.join().unwrap();
    });
    assert_kinds(&report, &[Kind::StreamRace]);
    assert_found_at(&report, Kind::StreamRace, read);
}

#[test]
fn a_host_free_is_strict_and_a_use_after_it_is_reported() {
    let (free, late) = (marker("host_free"), marker("late_use"));
    let report = Builder::new().check(|| {
        let device = Device::new();
        let s1 = device.stream(false);
        let x = device.alloc("x", Space::Device);
        s1.launch("use").reads(&x);
        device.free(&x); // host_free
        s1.launch("late").writes(&x); // late_use
    });
    assert_kinds(&report, &[Kind::StreamUseAfterFree]);
    assert_found_at(&report, Kind::StreamUseAfterFree, free);
    assert_found_at(&report, Kind::StreamUseAfterFree, late);
}

#[test]
fn query_reports_done_and_orders_the_host() {
    let report = Builder::new().check(|| {
        let device = Device::new();
        let s1 = device.stream(false);
        let out = device.alloc("out", Space::Pinned);
        let done = device.event("done");
        s1.launch("compute").writes(&out);
        done.record(&s1);
        assert!(done.query());
        out.host_read();
        s1.launch("again").writes(&out);
        assert!(s1.query());
        out.host_read();
    });
    assert_clean(&report);
}

#[test]
fn every_execution_starts_with_fresh_gpu_state() {
    // Several executions (two threads); names stay `x`, streams stay 1 and 2.
    let report = Builder::new().check(|| {
        let device = Device::new();
        let x = device.alloc("x", Space::Device);
        let (d, x2) = (device.clone(), x.clone());
        let worker = thread::spawn(move || d.stream(false).launch("a").writes(&x2));
        device.stream(false).launch("b").writes(&x);
        worker.join().unwrap();
    });
    assert!(report.summary.executions > 1, "{report}");
    assert_kinds(&report, &[Kind::StreamRace]);
    for finding in report.findings() {
        assert!(
            finding.message.contains("`x`") && !finding.message.contains("x#"),
            "{}",
            finding.message
        );
        assert!(!finding.message.contains("stream 3"), "{}", finding.message);
    }
}

#[test]
fn the_std_engine_records_gpu_calls_too() {
    let report = Builder::new()
        .engine(Engine::Std)
        .max_executions(3)
        .check(|| {
            let device = Device::new();
            let s1 = device.stream(false);
            let x = device.alloc("x", Space::Pinned);
            s1.launch("produce").writes(&x);
            x.host_read(); // std_read
        });
    assert_kinds(&report, &[Kind::StreamRace]);
    assert_found_at(&report, Kind::StreamRace, marker("std_read"));
}

#[test]
fn gpu_calls_appear_in_other_findings_interleavings() {
    // A deadlock's interleaving names the GPU calls the threads made.
    let report = Builder::new().check(|| {
        let device = Device::new();
        let a = Arc::new(Mutex::new(()));
        let b = Arc::new(Mutex::new(()));
        let (a2, b2, d) = (a.clone(), b.clone(), device.clone());
        let t = thread::spawn(move || {
            let _b = b2.lock().unwrap();
            d.synchronize();
            let _a = a2.lock().unwrap();
        });
        {
            let _a = a.lock().unwrap();
            let _b = b.lock().unwrap();
        }
        t.join().unwrap();
    });
    let with_steps = report
        .findings()
        .iter()
        .filter_map(|f| f.trace.as_ref())
        .flatten()
        .any(|s| s.action == "synchronize the device");
    assert!(with_steps, "{report}");
}

#[test]
fn outside_a_model_the_calls_record_nothing() {
    let device = Device::new();
    let s1 = device.stream(false);
    let x = device.alloc("x", Space::Device);
    s1.launch("k").writes(&x);
    x.host_read();
    device.synchronize();
}

#[test]
fn one_program_has_one_default_stream_mode() {
    let report = Builder::new().check(|| {
        let _legacy = Device::new();
        let _per_thread = Device::per_thread(); // second_mode
    });
    assert_kinds(&report, &[Kind::AssertionFailure]);
    assert_found_at(&report, Kind::AssertionFailure, marker("second_mode"));
    assert!(
        report.findings()[0].message.contains("cannot also be"),
        "{report}"
    );
}
