//! The breached-password list shipped with the crate: the 100,000 most common passwords of
//! the xato-net "10 million passwords" corpus (SecLists, MIT; see `data/common-passwords.NOTICE`).
//!
//! The list is compiled into the binary as one sorted, newline-separated text (about 770 KB);
//! the first look-up indexes where each line starts (400 KB of `u32`, about a millisecond),
//! and every look-up is a binary search over that index: about 17 comparisons of short
//! slices, no allocation for a password without capitals (the `passwords` benchmark in
//! `auth-core/benches/passwords.rs` measures it against a `HashSet`, which would take
//! several megabytes).
//!
//! ```
//! use auth_core::password::breached;
//!
//! assert!(breached::contains("password1"));
//! assert!(breached::contains("Password1"), "compared case-insensitively too");
//! assert!(!breached::contains("correct horse battery staple"));
//! assert!(breached::LEN >= 100_000);
//! ```

use std::cmp::Ordering;
use std::sync::OnceLock;

/// The list: unique entries sorted by their bytes, each followed by `\n`.
static LIST: &str = include_str!("data/common-passwords.txt");

/// How many passwords the list holds.
pub const LEN: usize = 100_000;

/// Whether `password` is on the list, as typed or lower-cased.
#[must_use]
pub fn contains(password: &str) -> bool {
    if password.is_empty() {
        return false;
    }
    if search(password.as_bytes()) {
        return true;
    }
    let lower = password.to_lowercase();
    lower != password && search(lower.as_bytes())
}

/// Where each line of [`LIST`] starts, and the end of the text last.
fn line_starts() -> &'static [u32] {
    static STARTS: OnceLock<Vec<u32>> = OnceLock::new();
    STARTS.get_or_init(|| {
        let bytes = LIST.as_bytes();
        let mut starts = Vec::with_capacity(LEN + 1);
        starts.push(0);
        // The text is under 1 MB, so every offset fits in a u32.
        starts.extend(memchr::memchr_iter(b'\n', bytes).filter_map(|i| u32::try_from(i + 1).ok()));
        starts
    })
}

/// Binary search over the lines of [`LIST`].
fn search(wanted: &[u8]) -> bool {
    let bytes = LIST.as_bytes();
    let starts = line_starts();
    let line = |i: usize| {
        // Each line ends one byte (its newline) before the next one starts.
        let (start, next) = (starts[i] as usize, starts[i + 1] as usize);
        &bytes[start..next - 1]
    };
    let lines = starts.len() - 1;
    let (mut lo, mut hi) = (0, lines);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match line(mid).cmp(wanted) {
            Ordering::Equal => return true,
            Ordering::Less => lo = mid + 1,
            Ordering::Greater => hi = mid,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_found_and_the_list_is_sorted_and_unique() {
        let lines: Vec<&str> = LIST.lines().collect();
        assert_eq!(line_starts().len(), LEN + 1);
        assert_eq!(lines.len(), LEN);
        assert!(LIST.ends_with('\n'));
        assert!(lines.windows(2).all(|w| w[0].as_bytes() < w[1].as_bytes()));
        for line in &lines {
            assert!(search(line.as_bytes()), "{line:?}");
        }
    }

    #[test]
    fn only_entries_are_found() {
        let set: std::collections::HashSet<&str> = LIST.lines().collect();
        for line in LIST.lines().step_by(97).filter(|l| l.is_ascii()) {
            let longer = format!("{line}\u{1}");
            assert!(!search(longer.as_bytes()), "{longer:?}");
            let shorter = &line[..line.len() - 1];
            assert_eq!(
                search(shorter.as_bytes()),
                set.contains(shorter),
                "{shorter:?}"
            );
        }
        for absent in [
            "",
            "\u{0}",
            "~~~~~~~~~~~~~~",
            "correct horse battery staple",
        ] {
            assert!(!contains(absent), "{absent:?}");
        }
        for edge in [LIST.lines().next(), LIST.lines().last()] {
            assert!(contains(edge.unwrap_or_default()));
        }
    }

    #[test]
    fn common_passwords_are_found_in_any_case() {
        for common in [
            "123456", "password", "qwerty", "iloveyou", "PASSWORD", "Dragon", "trustno1",
        ] {
            assert!(contains(common), "{common}");
        }
    }
}
