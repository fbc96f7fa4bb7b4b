//! Small formatting helpers for the views.

/// Decimal units (1 GB = 10^9 bytes), the unit of the size settings (`--trash-max-gb 20` is "20.0 GB"),
/// so a limit and what is measured against it read in the same unit.
pub fn bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Unix milliseconds as `YYYY-MM-DD HH:MM:SS` UTC, computed without a date crate (civil-from-days).
pub fn time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A length of time in seconds as people say it: `7 days`, `12 h`, `15 min`, `30 s`.
pub fn duration_secs(secs: i64) -> String {
    match secs {
        s if s >= 86_400 && s % 86_400 == 0 => plural(s / 86_400, "day"),
        s if s >= 3_600 && s % 3_600 == 0 => format!("{} h", s / 3_600),
        s if s >= 60 && s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// `1 path`, `3 paths`.
pub fn plural(n: i64, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// What a cleanup that kept its trash did: nothing is freed yet, everything can still come back.
pub fn moved_to_trash(paths: usize, until_ms: i64) -> String {
    format!(
        "Moved {} to the trash — restorable until {} UTC",
        plural(paths as i64, "path"),
        time(until_ms)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_sizes_and_times() {
        assert_eq!(super::bytes(512), "512 B");
        assert_eq!(super::bytes(1500), "1.5 kB");
        assert_eq!(super::bytes(20_000_000_000), "20.0 GB");
        assert_eq!(super::time(0), "1970-01-01 00:00:00");
        assert_eq!(super::time(1_767_225_600_000), "2026-01-01 00:00:00");
        assert_eq!(super::duration_secs(7 * 86_400), "7 days");
        assert_eq!(super::duration_secs(86_400), "1 day");
        assert_eq!(super::duration_secs(43_200), "12 h");
        assert_eq!(super::duration_secs(90), "90 s");
        assert_eq!(
            super::moved_to_trash(1, 1_767_225_600_000),
            "Moved 1 path to the trash — restorable until 2026-01-01 00:00:00 UTC"
        );
    }
}
