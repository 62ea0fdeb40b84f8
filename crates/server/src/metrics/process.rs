//! The process's own metrics, read from `/proc` at each scrape under the names every Prometheus
//! client library uses (`process_resident_memory_bytes`, `process_cpu_seconds_total`,
//! `process_open_fds`, `process_max_fds`, `process_start_time_seconds`,
//! `process_virtual_memory_bytes`), so the usual dashboards and alerts work unchanged. On a
//! system without `/proc` the family is simply absent.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// The kernel's clock ticks per second in `/proc/<pid>/stat` (`USER_HZ`): 100 on every Linux
/// architecture, fixed by the ABI whatever the kernel's internal tick rate.
const USER_HZ: f64 = 100.0;

/// A reading of `/proc/self`.
#[derive(Debug, Default, PartialEq)]
pub struct Reading {
    /// User and system CPU time, in seconds.
    pub cpu_seconds: f64,
    /// Resident set size, in bytes.
    pub resident_bytes: u64,
    /// Virtual memory size, in bytes.
    pub virtual_bytes: u64,
    /// Open file descriptors (sockets included).
    pub open_fds: u64,
    /// The soft limit of open file descriptors.
    pub max_fds: Option<u64>,
    /// When the process started, in seconds since the Unix epoch.
    pub start_time_seconds: f64,
}

/// Reads `/proc/self` now; `None` where there is no `/proc`.
pub fn read() -> Option<Reading> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let boot = std::fs::read_to_string("/proc/stat").ok()?;
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    parse(&stat, &status, &boot, &limits, open_fds)
}

/// The reading from the texts of `/proc/self/stat`, `/proc/self/status`, `/proc/stat` and
/// `/proc/self/limits`, and the count of `/proc/self/fd`.
fn parse(stat: &str, status: &str, boot: &str, limits: &str, open_fds: u64) -> Option<Reading> {
    // The command name in parentheses may hold spaces or parentheses itself: fields start after
    // the last `)`, at field 3 (the state).
    let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
            .map(|kib| kib * 1024)
    };
    let btime: u64 = boot
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    let max_fds = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3)?.parse().ok());
    Some(Reading {
        cpu_seconds: (field(14)? + field(15)?) as f64 / USER_HZ,
        resident_bytes: kib("VmRSS:").unwrap_or(0),
        virtual_bytes: kib("VmSize:").unwrap_or(0),
        open_fds,
        max_fds,
        start_time_seconds: btime as f64 + field(22)? as f64 / USER_HZ,
    })
}

/// Encodes [`read`] at each scrape.
#[derive(Debug)]
pub struct ProcessCollector;

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(r) = read() else {
            return Ok(());
        };
        let cpu = ConstCounter::new(r.cpu_seconds);
        cpu.encode(encoder.encode_descriptor(
            "process_cpu_seconds",
            "User and system CPU time spent, in seconds",
            None,
            cpu.metric_type(),
        )?)?;
        let mut gauge = |name: &str, help: &str, value: f64| {
            let g = ConstGauge::new(value);
            g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)
        };
        gauge(
            "process_resident_memory_bytes",
            "Resident memory size, in bytes",
            r.resident_bytes as f64,
        )?;
        gauge(
            "process_virtual_memory_bytes",
            "Virtual memory size, in bytes",
            r.virtual_bytes as f64,
        )?;
        gauge(
            "process_open_fds",
            "Open file descriptors, sockets included",
            r.open_fds as f64,
        )?;
        if let Some(max) = r.max_fds {
            gauge(
                "process_max_fds",
                "The limit of open file descriptors",
                max as f64,
            )?;
        }
        gauge(
            "process_start_time_seconds",
            "When the process started, in seconds since the Unix epoch",
            r.start_time_seconds,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_texts_are_read_as_the_kernel_writes_them() {
        let stat = "4242 (make (pulse)) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 130 0 0 20 0 \
                    9 0 123456 987654321 3000 18446744073709551615";
        let status = "Name:\tmakerpulse\nVmSize:\t  964520 kB\nVmRSS:\t   12000 kB\n";
        let boot = "cpu  1 2 3\nbtime 1764500000\nprocesses 9\n";
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            20000                20000                files\n";
        let r = parse(stat, status, boot, limits, 17).unwrap();
        assert_eq!(
            r,
            Reading {
                cpu_seconds: 3.8,
                resident_bytes: 12000 * 1024,
                virtual_bytes: 964520 * 1024,
                open_fds: 17,
                max_fds: Some(20000),
                start_time_seconds: 1764500000.0 + 1234.56,
            }
        );
    }

    #[test]
    fn this_process_reads_sensibly() {
        let r = read().expect("Linux has /proc");
        assert!(r.resident_bytes > 1 << 20, "{r:?}");
        assert!(r.open_fds >= 3, "{r:?}");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!(
            r.start_time_seconds <= now + 1.0 && r.start_time_seconds > now - 86_400.0,
            "{r:?}"
        );
    }

    /// Every family follows the conventions: ours prefixed, counters' samples ending in
    /// `_total`, histograms in a base unit, no unit other than a base one; and the build and
    /// process families are there.
    #[test]
    fn every_name_follows_the_prometheus_conventions() {
        let text = crate::metrics::Metrics::new().render();
        let mut families = 0;
        for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
            let mut words = line.split_whitespace().skip(2);
            let (name, kind) = (words.next().unwrap(), words.next().unwrap());
            families += 1;
            assert!(
                name.starts_with("makerpulse_") || name.starts_with("process_"),
                "{line}"
            );
            for bad in ["_ms", "millis", "_kb", "_mb", "_us_", "micros", "_total_"] {
                assert!(!name.contains(bad), "{name}: base units only");
            }
            match kind {
                "counter" => assert!(
                    !name.ends_with("_total"),
                    "the encoder adds _total once: {name}"
                ),
                "histogram" => assert!(
                    name.ends_with("_seconds") || name.ends_with("_bytes"),
                    "{name}: a histogram measures in a base unit"
                ),
                _ => {}
            }
        }
        assert!(families >= 10, "{text}");
        for sample in text.lines().filter(|l| !l.starts_with('#')) {
            let name = sample.split(['{', ' ']).next().unwrap();
            let family = text
                .lines()
                .filter_map(|l| l.strip_prefix("# TYPE "))
                .find(|t| {
                    let f = t.split_whitespace().next().unwrap();
                    name == f || name.strip_prefix(f).is_some_and(|s| s.starts_with('_'))
                })
                .unwrap_or_else(|| panic!("{sample} has no TYPE"));
            if family.ends_with(" counter") {
                assert!(
                    name.ends_with("_total") || name.ends_with("_created"),
                    "{sample}"
                );
            }
        }
        for wanted in [
            "makerpulse_build_info{version=\"",
            "process_resident_memory_bytes ",
            "process_cpu_seconds_total ",
            "process_open_fds ",
            "process_start_time_seconds ",
        ] {
            assert!(text.contains(wanted), "{wanted} missing in\n{text}");
        }
    }
}
