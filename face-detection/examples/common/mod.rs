//! Shared by the examples (a folder without `main.rs` is not an example of its own).

/// This process's CPU time in ms, every thread included (OpenCV's too): with the benchmarks
/// pinned to one core, what an image cost, unaffected by waiting for the core.
pub fn process_cpu_ms() -> f64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the pointer it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    now.tv_sec as f64 * 1e3 + now.tv_nsec as f64 / 1e6
}
