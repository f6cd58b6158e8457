//! Process CPU time, to report CPU use as CPU time / wall time x 100 (200% = both cores busy
//! on a 2-core machine), the way the peer reported it.

use std::time::Duration;

/// User + system CPU time of the whole process (all threads, the server's included).
pub fn process_cpu_time() -> Duration {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    if rc != 0 {
        // Cannot happen for RUSAGE_SELF; report 0 rather than fail a benchmark over it.
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// CPU time over wall time, in percent.
pub fn cpu_percent(cpu: Duration, wall: Duration) -> f64 {
    if wall.is_zero() {
        return 0.0;
    }
    cpu.as_secs_f64() / wall.as_secs_f64() * 100.0
}
