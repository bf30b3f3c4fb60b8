//! What a server costs the machine, read from `/proc`: the CPU time of a process, of a
//! process and its children (PostGraphile's cluster master and workers), or of every
//! process of a name (PostgreSQL's postmaster and backends), and their peak resident
//! memory (`VmHWM`, which a run can reset through `clear_refs`).

use std::collections::HashMap;

/// A set of processes whose CPU time and memory a run reports.
#[derive(Debug, Clone, Copy)]
pub enum Procs {
    /// One process.
    One(u32),
    /// A process and its descendants.
    Tree(u32),
    /// Every process of this name (`comm`), e.g. `postgres`.
    Named(&'static str),
    /// The whole machine: the busy time of every core (`/proc/stat`), whoever spent it.
    Machine,
}

/// One line of `/proc/<pid>/stat`: the parent, the name and the CPU ticks.
struct Stat {
    ppid: u32,
    comm: String,
    /// utime + stime + cutime + cstime: a postmaster's `cutime` holds the time of the
    /// backends that exited (and were reaped) during a run.
    ticks: u64,
    /// utime + stime: the process's own time.
    own: u64,
}

fn stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    // After the name: state (field 3), ppid (4), … utime (14), stime (15), cutime (16), cstime (17).
    let rest: Vec<&str> = text.get(close + 2..)?.split_whitespace().collect();
    let field = |n: usize| -> Option<u64> { rest.get(n - 3)?.parse().ok() };
    let own = field(14)? + field(15)?;
    let ticks = own + field(16)? + field(17)?;
    Some(Stat { ppid: u32::try_from(field(4)?).ok()?, comm, ticks, own })
}

fn all() -> HashMap<u32, Stat> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return HashMap::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, stat(pid)?)))
        .collect()
}

impl Procs {
    /// The processes of the set now.
    pub fn pids(self) -> Vec<u32> {
        match self {
            Self::One(pid) => vec![pid],
            Self::Tree(root) => {
                let stats = all();
                let mut out = vec![root];
                let mut i = 0;
                while i < out.len() {
                    let parent = out[i];
                    out.extend(stats.iter().filter(|(_, s)| s.ppid == parent).map(|(pid, _)| *pid));
                    i += 1;
                }
                out
            }
            Self::Named(name) => all().into_iter().filter(|(_, s)| s.comm == name).map(|(pid, _)| pid).collect(),
            Self::Machine => Vec::new(),
        }
    }

    /// Their CPU time so far (user and system, their reaped children's included), in ms.
    pub fn cpu_ms(self) -> f64 {
        if let Self::Machine = self {
            return machine_busy_ticks() as f64 * 1000.0 / ticks_per_second();
        }
        let ticks: u64 = self.pids().into_iter().filter_map(stat).map(|s| s.ticks).sum();
        ticks as f64 * 1000.0 / ticks_per_second()
    }

    /// The sum of their peak resident memory (`VmHWM`), in MiB.
    pub fn peak_rss_mib(self) -> Option<f64> {
        let kib: Vec<u64> = self.pids().into_iter().filter_map(crate::peak_rss_kib).collect();
        (!kib.is_empty()).then(|| kib.iter().sum::<u64>() as f64 / 1024.0)
    }

    /// Resets their peak resident memory to the current (`echo 5 > clear_refs`); false
    /// when the kernel does not allow it.
    pub fn reset_peak(self) -> bool {
        self.pids().into_iter().all(|pid| std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok())
    }
}

/// The time every core spent busy so far: the first line of `/proc/stat` (user, nice,
/// system, idle, iowait, irq, softirq, steal …) without idle and iowait.
fn machine_busy_ticks() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/stat") else {
        return 0;
    };
    let fields: Vec<u64> =
        text.lines().next().unwrap_or("").split_whitespace().skip(1).take(8).filter_map(|f| f.parse().ok()).collect();
    let total: u64 = fields.iter().sum();
    total.saturating_sub(fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0))
}

/// The unit of `/proc/<pid>/stat`'s times: `USER_HZ`, 100 per second on every Linux ABI
/// (x86-64 and arm64 included) whatever the kernel's own tick rate.
fn ticks_per_second() -> f64 {
    100.0
}

/// CPU time of several sets over one run window, and of every other process by name.
pub struct CpuWindow {
    sets: Vec<Procs>,
    before: Vec<f64>,
    /// Every process at the start.
    everyone: HashMap<u32, Stat>,
}

/// What a window measured.
pub struct CpuSpent {
    /// The CPU ms of each set, in the order given.
    pub sets: Vec<f64>,
    /// The CPU ms of the processes in none of the sets, by name, most first.
    pub others: Vec<(String, f64)>,
}

impl CpuWindow {
    /// Starts the window now.
    pub fn start(sets: &[Procs]) -> Self {
        let everyone = all();
        Self { sets: sets.to_vec(), before: sets.iter().map(|s| s.cpu_ms()).collect(), everyone }
    }

    /// The CPU each set, and each other process, spent since the start.
    pub fn stop(&self) -> CpuSpent {
        let sets: Vec<f64> = self.sets.iter().zip(&self.before).map(|(s, b)| (s.cpu_ms() - b).max(0.0)).collect();
        let watched: std::collections::HashSet<u32> = self.sets.iter().flat_map(|s| s.pids()).collect();
        let mut by_name: HashMap<String, u64> = HashMap::new();
        // Their own time only: an init process's children's time is everyone's orphans'.
        for (pid, now) in all() {
            if watched.contains(&pid) {
                continue;
            }
            let before = self.everyone.get(&pid).map_or(0, |b| b.own);
            // Kernel threads rename themselves (`kworker/0:1-events`): one name per kind.
            let name = now.comm.split(['/', ':']).next().unwrap_or_default().to_string();
            *by_name.entry(name).or_default() += now.own.saturating_sub(before);
        }
        let mut others: Vec<(String, f64)> = by_name
            .into_iter()
            .filter(|(_, ticks)| *ticks > 0)
            .map(|(name, ticks)| (name, ticks as f64 * 1000.0 / ticks_per_second()))
            .collect();
        others.sort_by(|a, b| b.1.total_cmp(&a.1));
        CpuSpent { sets, others }
    }
}

/// The busiest of `others` (CPU ms by process name, summed over runs), as
/// `rustc 12.3 s, cargo 0.4 s`; at most `n`, and only those above 1 % of `total_ms`.
pub fn busiest(others: &[(String, f64)], n: usize, total_ms: f64) -> String {
    let mut by_name: HashMap<&str, f64> = HashMap::new();
    for (name, ms) in others {
        *by_name.entry(name).or_default() += ms;
    }
    let mut sorted: Vec<(&str, f64)> = by_name.into_iter().filter(|(_, ms)| *ms > total_ms / 100.0).collect();
    sorted.sort_by(|a, b| b.1.total_cmp(&a.1));
    let names: Vec<String> = sorted.iter().take(n).map(|(name, ms)| format!("{name} {:.1} s", ms / 1000.0)).collect();
    if names.is_empty() { "none above 1 % of the machine".into() } else { names.join(", ") }
}
