//! What a process has cost, read from Linux `/proc`: the benches measure their own child
//! processes and the daemons they start this way, one reader for all of them. `pid` is a
//! process ID or `"self"`.

/// User + system CPU seconds of process `pid`, all its threads included. The fields are in
/// `USER_HZ` ticks, which the kernel ABI fixes at 100 per second. On a machine shared with
/// other work this, not the wall time, says what a piece of work costs.
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    cpu_user_system(pid).map(|(user, system)| user + system)
}

/// User and system CPU seconds of process `pid`, apart (file-system work shows as system
/// time, parsing and serialising as user time).
pub fn cpu_user_system(pid: &str) -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces: count fields after its closing `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // `rest` starts at field 3 (state); utime and stime are fields 14 and 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime as f64 / 100.0, stime as f64 / 100.0))
}

/// Peak resident memory of process `pid` in KiB (`VmHWM`).
pub fn peak_rss_kib(pid: &str) -> Option<u64> {
    status_kib(pid, "VmHWM:")
}

/// Current resident memory of process `pid` in KiB (`VmRSS`).
pub fn rss_kib(pid: &str) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

fn status_kib(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix(field))?.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_has_a_peak_no_lower_than_its_resident_memory_and_some_cpu_time() {
        let v: Vec<u8> = vec![1; 8 << 20];
        let (rss, peak) = (super::rss_kib("self").unwrap(), super::peak_rss_kib("self").unwrap());
        assert!(rss >= 8 << 10 && peak >= rss, "rss {rss} peak {peak}");
        assert!(super::cpu_seconds("self").unwrap() >= 0.0);
        drop(v);
    }
}
