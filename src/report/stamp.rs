//! Report time stamps: `created_utc` (`2026-01-31T12:00:00Z`) and the file-name form
//! (`20260131T120000`), one derived from the other so the two always match.

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;

/// `YYYY-MM-DDTHH:MM:SSZ`, whole seconds, UTC. A clock set outside the representable range
/// gives the Unix epoch rather than a panic.
pub fn format_utc(when: SystemTime) -> String {
    let seconds = match when.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(0),
        // Before 1970: the whole seconds before the epoch, rounded towards the past.
        Err(e) => {
            let d = e.duration();
            let whole = i64::try_from(d.as_secs()).unwrap_or(0);
            -whole - i64::from(d.subsec_nanos() > 0)
        }
    };
    let t = OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `2026-01-31T12:00:00Z` → `20260131T120000`; `None` if the text is not in that form.
pub fn file_stamp(created_utc: &str) -> Option<String> {
    let b = created_utc.as_bytes();
    let digits_at = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    let shape = b.len() == 20
        && [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'Z'),
        ]
        .iter()
        .all(|&(i, c)| b[i] == c)
        && digits_at(0..4)
        && digits_at(5..7)
        && digits_at(8..10)
        && digits_at(11..13)
        && digits_at(14..16)
        && digits_at(17..19);
    shape.then(|| {
        let s = created_utc;
        format!(
            "{}{}{}T{}{}{}",
            &s[0..4],
            &s[5..7],
            &s[8..10],
            &s[11..13],
            &s[14..16],
            &s[17..19]
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_utc_and_file_stamp() {
        // 2026-01-31T12:00:00Z
        let t = UNIX_EPOCH + Duration::from_millis(1_769_860_800_999);
        let s = format_utc(t);
        assert_eq!(s, "2026-01-31T12:00:00Z");
        assert_eq!(file_stamp(&s).as_deref(), Some("20260131T120000"));
        assert_eq!(format_utc(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_utc(UNIX_EPOCH - Duration::from_millis(500)),
            "1969-12-31T23:59:59Z"
        );
    }

    #[test]
    fn refuses_other_shapes() {
        for bad in [
            "",
            "2026-01-31 12:00:00Z",
            "2026-01-31T12:00:00",
            "2026-01-3xT12:00:00Z",
        ] {
            assert_eq!(file_stamp(bad), None, "{bad}");
        }
    }
}
