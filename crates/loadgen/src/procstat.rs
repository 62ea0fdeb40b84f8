//! What a process costs, read from `/proc`: resident memory and CPU time; and the open-files
//! limit, raised to the hard limit so that one process can hold ~20k sockets.

use std::path::Path;

/// One reading of a process.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Sample {
    /// Resident set size in KiB.
    pub rss_kib: u64,
    /// User plus system CPU seconds since it started.
    pub cpu_s: f64,
}

/// Reads `/proc/PID` (`None` for this process).
pub fn sample(pid: Option<u32>) -> Option<Sample> {
    let dir = match pid {
        Some(pid) => Path::new("/proc").join(pid.to_string()),
        None => Path::new("/proc/self").to_owned(),
    };
    let status = std::fs::read_to_string(dir.join("status")).ok()?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // After the name: state is field 3 of stat(5), utime 14 and stime 15.
    let ticks = |i: usize| fields.get(i - 3).and_then(|v| v.parse::<u64>().ok());
    let hz = rustix::param::clock_ticks_per_second() as f64;
    let cpu_s = (ticks(14)? + ticks(15)?) as f64 / hz;
    Some(Sample { rss_kib, cpu_s })
}

/// The sum over several processes (two instances, say); missing ones count as nothing.
pub fn sample_all(pids: &[u32]) -> Sample {
    pids.iter()
        .filter_map(|&pid| sample(Some(pid)))
        .fold(Sample::default(), |a, b| Sample {
            rss_kib: a.rss_kib + b.rss_kib,
            cpu_s: a.cpu_s + b.cpu_s,
        })
}

/// Each process's CPU seconds (user + system), in the order given; a missing one reads 0.
pub fn cpu_each(pids: &[u32]) -> Vec<f64> {
    pids.iter()
        .map(|&pid| sample(Some(pid)).map_or(0.0, |s| s.cpu_s))
        .collect()
}

/// The whole machine's CPU seconds from `/proc/stat`: (busy, all) summed over every core since
/// boot, busy being everything but idle and I/O wait. Two readings give how much of the cores
/// were in use between them, whoever used them.
pub fn machine_cpu() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<u64> = stat
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("cpu "))
        .map(|l| {
            l.split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    // user nice system idle iowait irq softirq steal (guest time is inside user already).
    let all: u64 = ticks.iter().take(8).sum();
    let waiting = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
    let hz = rustix::param::clock_ticks_per_second() as f64;
    ((all - waiting) as f64 / hz, all as f64 / hz)
}

/// The 1-minute load average of the machine.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Raises the soft open-files limit to the hard one; returns the limit now in force.
pub fn raise_nofile() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let limit = getrlimit(Resource::Nofile);
    if limit.maximum != limit.current {
        let mut raised = limit;
        raised.current = limit.maximum;
        let _ = setrlimit(Resource::Nofile, raised);
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_memory_and_cpu() {
        let s = sample(None).expect("/proc/self");
        assert!(s.rss_kib > 0);
        assert!(s.cpu_s >= 0.0);
        assert!(raise_nofile() >= 256);
        let (busy, all) = machine_cpu();
        assert!(all > 0.0 && busy > 0.0 && busy <= all);
        let each = cpu_each(&[std::process::id(), u32::MAX]);
        assert_eq!(each.len(), 2);
        assert_eq!(each[1], 0.0);
    }
}
