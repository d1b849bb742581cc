//! Helpers of the benchmarks in `tests/examples/` (index latency, load): what an index lists,
//! percentiles, and the structured log lines of the deployed functions.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::Result;

use crate::Stack;

/// A benchmark's arguments: a count (`default` when absent), then template parameters
/// `Name=Value` for devstack.
pub fn count_and_parameters(default: usize) -> Result<(usize, Vec<(String, String)>)> {
    let mut args = std::env::args().skip(1);
    let count = args.next().and_then(|a| a.parse().ok()).unwrap_or(default);
    let parameters = args
        .map(|a| {
            a.split_once('=')
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .ok_or_else(|| anyhow::anyhow!("{a:?}: parameters are Name=Value"))
        })
        .collect::<Result<_>>()?;
    Ok((count, parameters))
}

/// The `p`th percentile (nearest rank) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Follows one index (its head and every page it reaches, at any depth) by polling, reading a
/// page again only when the entry that lists it changed.
pub struct IndexWatcher {
    head_key: String,
    /// Page key -> (the entry that listed it, its items as objectKey -> title).
    pages: HashMap<String, (serde_json::Value, BTreeMap<String, String>)>,
}

impl IndexWatcher {
    pub fn new(head_key: impl Into<String>) -> Self {
        IndexWatcher {
            head_key: head_key.into(),
            pages: HashMap::new(),
        }
    }

    /// Every item the index lists now, objectKey -> title; empty while it does not exist.
    pub async fn listed(&mut self, stack: &Stack) -> Result<BTreeMap<String, String>> {
        let mut listed = BTreeMap::new();
        let Some((bytes, _)) = stack.object(&self.head_key).await? else {
            return Ok(listed);
        };
        let head: serde_json::Value = serde_json::from_slice(&bytes)?;
        collect_items(&head, &mut listed);
        let mut entries: Vec<serde_json::Value> =
            head["pages"].as_array().cloned().unwrap_or_default();
        while let Some(entry) = entries.pop() {
            let Some(key) = entry["key"].as_str().map(str::to_owned) else {
                continue;
            };
            let cached = self.pages.get(&key).filter(|(seen, _)| *seen == entry);
            if cached.is_none() {
                let mut items = BTreeMap::new();
                if let Some((bytes, _)) = stack.object(&key).await? {
                    let page: serde_json::Value = serde_json::from_slice(&bytes)?;
                    collect_items(&page, &mut items);
                    // A page that lists pages of its own (a deeper level).
                    entries.extend(page["pages"].as_array().cloned().unwrap_or_default());
                }
                self.pages.insert(key.clone(), (entry.clone(), items));
            }
            listed.extend(
                self.pages[&key]
                    .1
                    .iter()
                    .map(|(k, t)| (k.clone(), t.clone())),
            );
        }
        Ok(listed)
    }
}

fn collect_items(index: &serde_json::Value, into: &mut BTreeMap<String, String>) {
    for entry in index["items"].as_array().into_iter().flatten() {
        if let Some(key) = entry["objectKey"].as_str() {
            into.insert(
                key.to_owned(),
                entry["title"].as_str().unwrap_or_default().to_owned(),
            );
        }
    }
}

/// The deployed functions' JSON log lines (from the emulator's log) whose message is one of
/// `messages`.
pub fn log_events(stack: &Stack, messages: &[&str]) -> Vec<serde_json::Value> {
    stack
        .log()
        .lines()
        .filter(|line| messages.iter().any(|m| line.contains(m)))
        .filter_map(|line| {
            line.find('{')
                .and_then(|at| serde_json::from_str::<serde_json::Value>(&line[at..]).ok())
        })
        .filter(|event| {
            event["message"]
                .as_str()
                .is_some_and(|m| messages.contains(&m))
        })
        .collect()
}

/// CPU seconds used so far by devstack's processes, by part: each deployed function (the
/// emulator runs them as `bootstrap` processes with `AWS_LAMBDA_FUNCTION_NAME` set), the emulator,
/// devstack itself, and this load generator. Linux only (/proc); read while the stack is up.
pub fn process_cpu_seconds(stack: &Stack) -> serde_json::Value {
    let ticks: f64 = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0);
    let by_name: HashMap<&str, &str> = stack
        .info
        .functions
        .iter()
        .map(|(crate_name, name)| (name.as_str(), crate_name.as_str()))
        .collect();
    // pid -> (parent, command, CPU seconds of the process and its reaped children).
    let mut processes: HashMap<u32, (u32, String, f64)> = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let command = head.split_once('(').map_or("", |(_, c)| c).to_owned();
        // After the command: state, ppid, ..., utime (12th), stime, cutime, cstime.
        let fields: Vec<f64> = rest
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0.0))
            .collect();
        let cpu = fields.get(11..15).map_or(0.0, |f| f.iter().sum::<f64>()) / ticks;
        processes.insert(
            pid,
            (fields.get(1).copied().unwrap_or(0.0) as u32, command, cpu),
        );
    }
    let root = stack.pid();
    let under_stack = |mut pid: u32| loop {
        if pid == root {
            return true;
        }
        match processes.get(&pid) {
            Some((parent, _, _)) if *parent != 0 && *parent != pid => pid = *parent,
            _ => return false,
        }
    };
    let mut cpu: BTreeMap<String, f64> = BTreeMap::new();
    for (pid, (_, command, seconds)) in &processes {
        let part = if *pid == std::process::id() {
            "load generator".to_owned()
        } else if !under_stack(*pid) {
            continue;
        } else if *pid == root {
            "devstack".to_owned()
        } else {
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            let function = environ
                .split(|b| *b == 0)
                .filter_map(|var| std::str::from_utf8(var).ok())
                .find_map(|var| var.strip_prefix("AWS_LAMBDA_FUNCTION_NAME="))
                .and_then(|name| by_name.get(name).copied());
            match function {
                Some(function) => function.to_owned(),
                None => format!("emulator ({command})"),
            }
        };
        *cpu.entry(part).or_default() += seconds;
    }
    serde_json::json!(cpu)
}
