//! The order stems are listed in: by name, numbers compared by value ("Stem 9" before
//! "Stem 10"), letters without regard to case, so a numbered package reads in its own order.

use std::cmp::Ordering;

use super::input::BusInput;

/// The stems in report order: by name, then by registry slot (stems without one last).
pub fn sort_stems(stems: &[BusInput]) -> Vec<&BusInput> {
    let mut sorted: Vec<&BusInput> = stems.iter().collect();
    sorted.sort_by(|a, b| {
        compare_names(&a.name, &b.name).then_with(|| match (a.slot, b.slot) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
    });
    sorted
}

/// Compares two display names in natural order; equal names fall back to a plain comparison
/// so the order is total and stable.
pub fn compare_names(a: &str, b: &str) -> Ordering {
    natural(a, b).then_with(|| a.cmp(b))
}

fn natural(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (a.peek().copied(), b.peek().copied()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = digits(&mut a);
                let db = digits(&mut b);
                // Leading zeros do not change the value; more significant digits win, then the
                // digits themselves; "01" and "1" tie here and are split by the plain compare.
                let (ta, tb) = (da.trim_start_matches('0'), db.trim_start_matches('0'));
                let ord = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            (Some(x), Some(y)) => {
                let ord = x.to_lowercase().cmp(y.to_lowercase());
                if ord != Ordering::Equal {
                    return ord;
                }
                a.next();
                b.next();
            }
        }
    }
}

fn digits(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    let mut s = String::new();
    while let Some(c) = chars.peek().copied().filter(char::is_ascii_digit) {
        s.push(c);
        chars.next();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_by_value_letters_by_letter() {
        let mut names = vec![
            "Stem 10", "stem 2", "Stem 9", "02_Bass", "01_Kick", "10_FX", "Bass",
        ];
        names.sort_by(|a, b| compare_names(a, b));
        assert_eq!(
            names,
            ["01_Kick", "02_Bass", "10_FX", "Bass", "stem 2", "Stem 9", "Stem 10"]
        );
        assert_eq!(compare_names("a", "a"), Ordering::Equal);
        assert_ne!(compare_names("01", "1"), Ordering::Equal);
    }
}
