//! One run: seed, connect every viewer, hold each rate for a step while measuring, optionally
//! drop and resume every viewer mid-step, then report. Every wait is bounded in time.

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use makerpulse_core::{Part, Parts};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::config::{Config, ConsoleParts, Join};
use crate::procstat::{self, Sample};
use crate::publish::Publisher;
use crate::report::{Reconnect, Report, StepReport};
use crate::seed;
use crate::stats::{Clock, Counters, Latency, Percentiles, SendTimes, Step};
use crate::target::Kind;
use crate::viewer::{self, HttpJoin, Seat, Shared, STOP};

/// How long connecting every viewer may take at most.
const JOIN_LIMIT: Duration = Duration::from_secs(180);

fn source_address(i: usize, per_address: usize) -> IpAddr {
    let n = i / per_address.max(1);
    IpAddr::from([127, 0, (n / 250) as u8, (1 + n % 250) as u8])
}

/// Waits until `done` holds, checking every 20 ms, for at most `limit`; returns how long it took.
async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if done() {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    done().then(|| started.elapsed())
}

/// Runs the load described by `config` and reports what it measured.
pub async fn run(config: &Config) -> anyhow::Result<Report> {
    anyhow::ensure!(!config.urls.is_empty(), "at least one --url");
    for url in &config.urls {
        crate::target::socket_addr(url)?;
    }
    let nofile = procstat::raise_nofile();
    let load_start = procstat::load_average();
    let http = config.http_base();
    let steps = config.rates.len().max(1);
    let capacity = config
        .rates
        .iter()
        .map(|r| (r * (config.duration + 1.0) * 1.2) as usize + 64)
        .sum::<usize>()
        + 1024;

    // Seed (makerpulse) before measuring anything.
    let mut expect_teams = 0;
    let seeded = if config.target == Kind::Makerpulse {
        let admin = config
            .admin_token
            .as_deref()
            .context("makerpulse runs need --admin-token or MAKERPULSE_ADMIN_TOKEN")?;
        expect_teams = config.teams;
        let shape = (config.teams, config.judges, config.tracks);
        Some(seed::seed(&http, &config.challenge, admin, shape, config.mixed).await?)
    } else {
        None
    };

    let shared = Arc::new(Shared {
        kind: config.target,
        clock: Clock::start(),
        sends: SendTimes::new(capacity),
        steps: (0..steps).map(|_| Step::default()).collect(),
        counters: Counters::default(),
        connect_time: Latency::new(),
        first_snapshot: Latency::new(),
        expect_teams,
        snapshots: Default::default(),
        http_join: match (config.target, config.join) {
            (Kind::Makerpulse, Join::Http) => Some(HttpJoin::Pooled(
                reqwest::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .pool_max_idle_per_host(config.connect_concurrency.max(1))
                    .build()?,
            )),
            (Kind::Makerpulse, Join::HttpOne) => Some(HttpJoin::OneConnection),
            _ => None,
        },
        gate: Semaphore::new(config.connect_concurrency.max(1)),
        socket_seq: Default::default(),
    });
    if config.target == Kind::Makerpulse {
        let client = seed::http_client(None)?;
        let seq = seed::current_seq(&client, &http, &config.challenge).await?;
        shared.sends.set_base(seq);
    } else {
        shared.sends.set_base(0);
    }

    if shared.http_join.is_some() {
        // What every HTTP snapshot is checked against: the socket's own at that seq.
        let url = config
            .target
            .viewer_url(&config.urls[0], &config.challenge, &config.pusher_key);
        let seq = viewer::reference(&url, &shared).await?;
        eprintln!(
            "[{}] the socket's snapshot at seq {seq} is the reference",
            config.label
        );
    }
    let baseline = procstat::sample_all(&config.server_pids);
    let loadgen_start = procstat::sample(None).unwrap_or_default();

    // The join.
    let (control, rx) = watch::channel(0u64);
    let _consoles = match (&seeded, config.consoles) {
        (Some(seeded), true) => {
            let url =
                config
                    .target
                    .viewer_url(&config.urls[0], &config.challenge, &config.pusher_key);
            // The pages' parts: the team's console shows the ticker; the judge's neither the
            // board, the people's choice nor the ticker (web/js/pages/team.js, judge.js).
            let (team, judge) = match config.console_parts {
                ConsoleParts::Pages => ([Part::Ticker].into_iter().collect(), Parts::NONE),
                ConsoleParts::All => (Parts::ALL, Parts::ALL),
            };
            let tokens: Vec<(String, Parts)> =
                (seeded.teams.iter().map(|(_, t)| (t.clone(), team)))
                    .chain(seeded.judges.iter().map(|t| (t.clone(), judge)))
                    .collect();
            let held = crate::consoles::open(&url, &tokens, rx.clone()).await?;
            eprintln!("[{}] {} consoles connected", config.label, held.len());
            Some(held)
        }
        _ => None,
    };
    let mut viewers = JoinSet::new();
    for i in 0..config.viewers {
        let base = &config.urls[i % config.urls.len()];
        let seat = Seat {
            id: i,
            url: config
                .target
                .viewer_url(base, &config.challenge, &config.pusher_key),
            from: source_address(i, config.per_address),
        };
        viewers.spawn(viewer::run(seat, shared.clone(), rx.clone()));
    }
    let n = config.viewers as u64;
    let c = &shared.counters;
    let joined = wait_until(JOIN_LIMIT, || {
        Counters::get(&c.ready) + Counters::get(&c.connect_errors) + Counters::get(&c.errors) >= n
    })
    .await;
    let join_s = joined.map_or(f64::NAN, |d| d.as_secs_f64());
    let held = Counters::get(&c.connected);
    eprintln!(
        "[{}] {held}/{} viewers connected in {join_s:.2} s ({} refused)",
        config.label,
        config.viewers,
        Counters::get(&c.connect_errors)
    );
    // Let the server settle (presence broadcasts, allocator) before reading its memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let connected = procstat::sample_all(&config.server_pids);
    let loadgen_joined = procstat::sample(None).unwrap_or_default();

    // The writers stand for judges on their own phones: they get a runtime (and a thread) of
    // their own, so that a send never waits in line behind the viewers' tasks of this process.
    // What is measured is then the server's delay, not the load generator's queue. Their
    // connections are made on that runtime too, so their tasks run there.
    let writers = Writers(Some(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("writers")
            .enable_all()
            .build()?,
    ));
    let publisher = if config.rates.is_empty() {
        None
    } else {
        let (target, http, challenge) = (config.target, http.clone(), config.challenge.clone());
        let (app_id, key, secret) = (
            config.pusher_app_id.clone(),
            config.pusher_key.clone(),
            config.pusher_secret.clone(),
        );
        let (size, first_url) = (config.payload_bytes, config.urls[0].clone());
        let mixed = config.mixed;
        let seeded = seeded.clone();
        let made = writers.spawn(async move {
            Ok::<_, anyhow::Error>(match (seeded, target) {
                (Some(seeded), _) => Publisher::makerpulse(&http, &challenge, &seeded, mixed)?,
                (None, Kind::Pusher) => Publisher::pusher(&http, &app_id, &key, &secret, size)?,
                (None, kind) => {
                    let url = kind.viewer_url(&first_url, &challenge, &key);
                    Publisher::socket(kind, &url, size).await?
                }
            })
        });
        Some(Arc::new(made.await??))
    };

    let mut raws: Vec<StepRaw> = Vec::new();
    let mut reconnect = None;
    for (k, step) in shared.steps.iter().enumerate() {
        let rate = config.rates.get(k).copied().unwrap_or(0.0);
        let viewers_now = Counters::get(&c.connected);
        let before = procstat::sample_all(&config.server_pids);
        let each_before = procstat::cpu_each(&config.server_pids);
        let machine_before = procstat::machine_cpu();
        let loadgen_before = procstat::sample(None).unwrap_or_default();
        let started = Instant::now();
        step.start_ns
            .store(shared.clock.now_ns(), Ordering::Release);
        let storm = match (k, config.reconnect_at) {
            (0, Some(at)) => Some(tokio::spawn(storm(
                shared.clone(),
                control.clone(),
                Duration::from_secs_f64(at),
                viewers_now,
            ))),
            _ => None,
        };
        match &publisher {
            Some(publisher) => {
                let pace = Pace {
                    rate,
                    duration: config.duration,
                    max_in_flight: config.max_in_flight,
                    post_every: config.post_every,
                };
                let _ = writers
                    .spawn(drive(publisher.clone(), shared.clone(), k, pace))
                    .await;
            }
            None => tokio::time::sleep(Duration::from_secs_f64(config.duration)).await,
        }
        let sending = started.elapsed().as_secs_f64();
        let events = Counters::get(&step.events);
        let expected = events * viewers_now;
        // Drain: until every message of the step has arrived, or nothing moves for 2 s.
        let drain_started = Instant::now();
        let mut last = (u64::MAX, Instant::now());
        while drain_started.elapsed().as_secs_f64() < config.drain {
            // Deltas waiting for their writer's answer have arrived too.
            let got = Counters::get(&step.delivered) + Counters::get(&c.pending);
            if got >= expected {
                break;
            }
            if got != last.0 {
                last = (got, Instant::now());
            } else if last.1.elapsed() > Duration::from_secs(2) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if let Some(storm) = storm {
            reconnect = storm.await.ok();
        }
        let after = procstat::sample_all(&config.server_pids);
        let each_after = procstat::cpu_each(&config.server_pids);
        let machine_after = procstat::machine_cpu();
        let loadgen_after = procstat::sample(None).unwrap_or_default();
        let p99 = Percentiles::of(&step.latency.merged()).p99;
        let raw = StepRaw {
            rate,
            seconds: sending,
            viewers: viewers_now,
            events,
            server_cpu_s: after.cpu_s - before.cpu_s,
            server_cpu_s_each: each_after
                .iter()
                .zip(&each_before)
                .map(|(a, b)| a - b)
                .collect(),
            loadgen_cpu_s: loadgen_after.cpu_s - loadgen_before.cpu_s,
            machine_cpu_s: (
                machine_after.0 - machine_before.0,
                machine_after.1 - machine_before.1,
            ),
            server_rss_kib: after.rss_kib,
            urls: config.urls.len(),
        };
        eprintln!("[{}] {}", config.label, raw.finish(step).line());
        let arrived = Counters::get(&step.delivered) + Counters::get(&c.pending);
        let over = config
            .stop_p99_ms
            .is_some_and(|limit| p99 > limit || arrived < expected);
        raws.push(raw);
        if over {
            break;
        }
    }

    let _ = control.send(STOP);
    let closing = Instant::now();
    while closing.elapsed() < Duration::from_secs(20) {
        match tokio::time::timeout(Duration::from_secs(1), viewers.join_next()).await {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => {}
        }
    }
    viewers.abort_all();
    drop(writers);
    // Every viewer has settled its last deltas: the steps' numbers are final now.
    let step_reports = raws
        .iter()
        .zip(&shared.steps)
        .map(|(raw, step)| raw.finish(step))
        .collect();
    let end = procstat::sample_all(&config.server_pids);
    let loadgen_end = procstat::sample(None).unwrap_or_default();
    Ok(Report::new(
        config,
        &shared,
        nofile,
        (load_start, procstat::load_average()),
        held,
        join_s,
        [baseline, connected, end],
        Sample {
            rss_kib: loadgen_end.rss_kib,
            cpu_s: loadgen_end.cpu_s - loadgen_start.cpu_s,
        },
        step_reports,
        reconnect,
        loadgen_joined.cpu_s - loadgen_start.cpu_s,
    ))
}

/// What a step measured while it ran; the deliveries are read once every viewer has settled.
struct StepRaw {
    rate: f64,
    seconds: f64,
    viewers: u64,
    events: u64,
    server_cpu_s: f64,
    server_cpu_s_each: Vec<f64>,
    loadgen_cpu_s: f64,
    machine_cpu_s: (f64, f64),
    server_rss_kib: u64,
    urls: usize,
}

impl StepRaw {
    fn finish(&self, step: &Step) -> StepReport {
        let delivered = Counters::get(&step.delivered);
        let bytes = Counters::get(&step.bytes);
        StepReport {
            rate: self.rate,
            seconds: self.seconds,
            viewers: self.viewers,
            events: self.events,
            expected: self.events * self.viewers,
            delivered,
            delivered_per_s: delivered as f64 / self.seconds.max(1e-9),
            message_bytes: bytes.checked_div(delivered).unwrap_or(0),
            latency_ms: Percentiles::of(&step.latency.merged()),
            answer_ms: Percentiles::of(&step.answers.merged()),
            latency_ms_by_url: match self.urls {
                0 | 1 => Vec::new(),
                n => step
                    .latency
                    .merged_by(n)
                    .map(|groups| groups.iter().map(Percentiles::of).collect())
                    .unwrap_or_default(),
            },
            server_cpu_s: self.server_cpu_s,
            server_cpu_s_each: self.server_cpu_s_each.clone(),
            loadgen_cpu_s: self.loadgen_cpu_s,
            machine_cpu_s: self.machine_cpu_s,
            server_rss_kib: self.server_rss_kib,
        }
    }
}

/// The writers' runtime, shut down without waiting when dropped (a runtime may not be dropped
/// the blocking way inside another).
struct Writers(Option<tokio::runtime::Runtime>);

impl std::ops::Deref for Writers {
    type Target = tokio::runtime::Runtime;

    fn deref(&self) -> &Self::Target {
        self.0.as_ref().expect("present until dropped")
    }
}

impl Drop for Writers {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// How a step writes.
#[derive(Clone, Copy)]
struct Pace {
    rate: f64,
    duration: f64,
    max_in_flight: usize,
    post_every: u64,
}

/// Sends at `rate` events per second for the step's duration; every send is bounded in time.
async fn drive(publisher: Arc<Publisher>, shared: Arc<Shared>, k: usize, pace: Pace) {
    let Pace {
        rate,
        duration,
        max_in_flight,
        post_every,
    } = pace;
    if rate <= 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(duration)).await;
        return;
    }
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let in_flight = Arc::new(Semaphore::new(max_in_flight.max(1)));
    let mut tasks = JoinSet::new();
    let total = (rate * duration).round() as u64;
    let deadline = Instant::now() + Duration::from_secs_f64(duration + 5.0);
    for _ in 0..total {
        tick.tick().await;
        if Instant::now() > deadline {
            break;
        }
        while tasks.try_join_next().is_some() {}
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            Counters::inc(&shared.counters.write_skipped);
            continue;
        };
        let (publisher, shared) = (publisher.clone(), shared.clone());
        tasks.spawn(async move {
            let step = &shared.steps[k];
            let sent = tokio::time::timeout(
                Duration::from_secs(30),
                publisher.publish(&shared, step, post_every),
            )
            .await;
            if !matches!(sent, Ok(Ok(()))) {
                if let Ok(Err(err)) = &sent {
                    eprintln!("write failed: {err:#}");
                }
                Counters::inc(&shared.counters.write_errors);
            }
            drop(permit);
        });
    }
    let _ = tokio::time::timeout(Duration::from_secs(30), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
}

/// After `at`, tells every viewer to drop its connection and resume, and times the storm.
async fn storm(
    shared: Arc<Shared>,
    control: watch::Sender<u64>,
    at: Duration,
    viewers: u64,
) -> Reconnect {
    tokio::time::sleep(at).await;
    let c = &shared.counters;
    let started = Instant::now();
    control.send_modify(|g| *g += 1);
    let welcomed = wait_until(Duration::from_secs(60), || {
        Counters::get(&c.reconnected) >= viewers
    })
    .await
    .map_or(f64::NAN, |d| d.as_secs_f64());
    let resumed = wait_until(Duration::from_secs(60), || {
        Counters::get(&c.resumed_replay) + Counters::get(&c.resumed_snapshot) >= viewers
    })
    .await
    .map_or(f64::NAN, |_| started.elapsed().as_secs_f64());
    Reconnect {
        viewers,
        all_welcomed_s: welcomed,
        all_resumed_s: resumed,
        resumed_with_missed_messages: Counters::get(&c.resumed_replay),
        resumed_with_snapshot: Counters::get(&c.resumed_snapshot),
        reconnected: Counters::get(&c.reconnected),
    }
}
