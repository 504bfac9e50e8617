//! Where a feed's archive pages begin and end, chosen by the activities themselves.
//!
//! A feed's first page shows its newest cards; the rest of the feed is cut into archive
//! pages. Cutting every 48 cards from either end would make one change move every card
//! after it: a back-dated upload, a deletion or an activity made private near the old end
//! of a 60,000-activity combined feed would rewrite over a thousand pages. Instead, the
//! cuts are content-defined, as in content-defined chunking of files: walking the feed
//! from its oldest activity, a page ends after a card whose [`cut_hash`] is divisible by
//! [`CUT_ODDS`], once the page holds at least [`MIN_CARDS`]; a page never holds more than
//! [`MAX_CARDS`]. Whether a card ends a page depends on the card, not on its rank, so a
//! change reaches the page it falls into and, at worst, the next one or two, until a cut
//! falls on the same card as before; every older page is untouched, and so is every newer
//! one past that point. Pages are named after their oldest card ([`page_names`]), not
//! numbered, for the same reason. See `docs/site.md`, "Feed pages".
//!
//! Everything here is a pure function of the feed's entries, so a full render and an
//! incremental job cut the same feed the same way.

use std::ops::Range;

/// The fewest cards an archive page holds (the newest archive page may hold fewer).
pub const MIN_CARDS: usize = 24;
/// Past [`MIN_CARDS`], one card in `CUT_ODDS` ends a page: pages hold 47 cards on average.
pub const CUT_ODDS: u64 = 24;
/// The most cards an archive page holds (about 115 KB of HTML, under the 150 KB budget of a
/// feed page); reached by about one page in twenty.
pub const MAX_CARDS: usize = 96;

/// A 64-bit hash of an entry's identity (e.g. its handle and activity ID), fixed by this
/// code (FNV-1a over the parts, each followed by a zero byte, then SplitMix64's finaliser
/// to spread FNV's weak low bits): the same in every build, on every machine and in every
/// version, so the pages' boundaries and names are too.
pub fn cut_hash(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in part.iter().chain(std::iter::once(&0u8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// What decides whether a member's activity ends an archive page: who and which activity,
/// the same in every feed (HTML or JSON) the activity is in.
pub fn local_cut_hash(handle: &str, id: &str) -> u64 {
    cut_hash(&[handle.as_bytes(), id.as_bytes()])
}

/// [`local_cut_hash`] of a followed instance's activity.
pub fn remote_cut_hash(label: &str, id: &str) -> u64 {
    cut_hash(&[b"remote", label.as_bytes(), id.as_bytes()])
}

/// Cut a feed into archive pages. `hashes` are the entries' [`cut_hash`]es, **oldest
/// first**; the result are ranges of those indices, oldest page first, covering every
/// entry once and in order.
pub fn chunks(hashes: &[u64]) -> Vec<Range<usize>> {
    let mut out = Vec::with_capacity(hashes.len() / 40 + 1);
    let mut start = 0;
    for (i, h) in hashes.iter().enumerate() {
        let len = i + 1 - start;
        if len >= MAX_CARDS || (len >= MIN_CARDS && h % CUT_ODDS == 0) {
            out.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < hashes.len() {
        out.push(start..hashes.len());
    }
    out
}

/// Which entries each page of a feed shows.
#[derive(Debug, PartialEq, Eq)]
pub struct Layout {
    /// The first page: the newest `front` entries (indices of the newest-first list).
    pub first: Range<usize>,
    /// The archive pages, oldest page first, as ranges of the newest-first list; none when
    /// the first page shows the whole feed. The newest archive page's cards also appear on
    /// the first page.
    pub archives: Vec<Range<usize>>,
    /// The archive page the first page's "Older" link leads to: the one holding the newest
    /// entry the first page does not show (an index into `archives`).
    pub older: Option<usize>,
}

/// Lay out a feed whose entries' [`cut_hash`]es are `newest_first`, showing `front` entries
/// on its first page.
pub fn layout(newest_first: &[u64], front: usize) -> Layout {
    let total = newest_first.len();
    let first = 0..total.min(front);
    if total <= front {
        return Layout { first, archives: Vec::new(), older: None };
    }
    let oldest_first: Vec<u64> = newest_first.iter().rev().copied().collect();
    let archives: Vec<Range<usize>> =
        chunks(&oldest_first).into_iter().map(|r| total - r.end..total - r.start).collect();
    // The newest entry not on the first page has newest-first index `front`.
    let older = archives.iter().position(|r| r.contains(&front));
    Layout { first, archives, older }
}

/// The URL segment of each archive page, from the name of its oldest entry (`oldest`, in
/// the order of the pages). An entry's name is unique in its feed (an activity's page
/// slug), but a name is also made safe and unique here whatever it is: characters other
/// than ASCII letters, digits, `-`, `_` and `.` become `-`, an empty name becomes `page`,
/// and a name met again gets `-2`, `-3`, … in page order.
pub fn page_names<S: AsRef<str>>(oldest: &[S]) -> Vec<String> {
    let mut seen = std::collections::HashSet::with_capacity(oldest.len());
    oldest
        .iter()
        .map(|name| {
            let mut base: String = name
                .as_ref()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' })
                .collect();
            if base.trim_matches('.').is_empty() {
                base = "page".to_owned();
            }
            let mut name = base.clone();
            let mut n = 1;
            while !seen.insert(name.clone()) {
                n += 1;
                name = format!("{base}-{n}");
            }
            name
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Hashes of made-up entries `0..n` (IDs as a feed would have them).
    fn feed(n: usize, salt: &str) -> Vec<u64> {
        (0..n).map(|i| cut_hash(&[salt.as_bytes(), format!("id{i:06}").as_bytes()])).collect()
    }

    /// The pages (as lists of the entries' hashes) of a feed given oldest first.
    fn pages(hashes: &[u64]) -> Vec<Vec<u64>> {
        chunks(hashes).into_iter().map(|r| hashes[r].to_vec()).collect()
    }

    #[test]
    fn the_hash_is_fixed_by_this_code() {
        // Changing these values moves every archive page of every instance: don't. (The
        // expected values come from a separate implementation of FNV-1a + SplitMix64.)
        assert_eq!(cut_hash(&[]), 0xf52a_15e9_a9b5_e89b);
        assert_eq!(cut_hash(&[b"user00", b"2024-03-02T081500Z"]), 0xe0f7_095d_dc15_4f9f);
        assert_ne!(cut_hash(&[b"ab", b"c"]), cut_hash(&[b"a", b"bc"]));
    }

    #[test]
    fn a_short_feed_is_one_page() {
        assert_eq!(
            layout(&feed(0, "a"), 48),
            Layout { first: 0..0, archives: vec![], older: None }
        );
        assert_eq!(
            layout(&feed(48, "a"), 48),
            Layout { first: 0..48, archives: vec![], older: None }
        );
    }

    #[test]
    fn the_first_page_leads_to_the_archive_page_of_its_49th_newest_entry() {
        let hashes = feed(500, "b");
        let l = layout(&hashes, 48);
        assert_eq!(l.first, 0..48);
        let older = l.older.expect("an older page");
        assert!(l.archives[older].contains(&48), "{l:?}");
        // Oldest page first: the last archive page ends with the newest entry.
        assert_eq!(l.archives.last().map(|r| r.start), Some(0));
        assert_eq!(l.archives.first().map(|r| r.end), Some(500));
    }

    /// Over 2,000 single changes at pseudo-random places of a 6,000-entry feed (an entry
    /// added, or one removed), the pages that differ: never one older than the change, 1.2 on
    /// average and 4 at worst. The places are fixed (hashes of the trial's
    /// number), so this is a measurement, not a dice roll.
    #[test]
    fn one_change_rewrites_the_page_it_falls_into_and_few_after_it() {
        let base = feed(6_000, "c");
        let before = pages(&base);
        let (mut sum, mut worst) = (0usize, 0usize);
        let trials = 2_000;
        for t in 0..trials {
            let mut changed = base.clone();
            let at = (cut_hash(&[b"at", &(t as u64).to_le_bytes()]) % base.len() as u64) as usize;
            if t % 2 == 0 {
                changed.insert(at, cut_hash(&[b"new", &(t as u64).to_le_bytes()]));
            } else {
                changed.remove(at);
            }
            let after = pages(&changed);
            // Pages are compared as sets of contents: one missing from `after` was rewritten.
            let kept: std::collections::HashSet<&Vec<u64>> = after.iter().collect();
            let rewritten: Vec<usize> =
                (0..before.len()).filter(|&k| !kept.contains(&before[k])).collect();
            let page_of_change = chunks(&base).iter().position(|r| r.contains(&at)).unwrap_or(0);
            assert!(
                rewritten.iter().all(|&k| k >= page_of_change),
                "a page older than the change was rewritten: {rewritten:?}, change on page \
                 {page_of_change}"
            );
            sum += rewritten.len();
            worst = worst.max(rewritten.len());
        }
        let mean = sum as f64 / trials as f64;
        eprintln!("{mean:.2} pages rewritten on average, {worst} at worst");
        assert!(mean <= 1.5, "{mean} pages rewritten on average");
        assert!(worst <= 5, "{worst} pages rewritten at worst");
    }

    #[test]
    fn page_names_are_safe_and_unique() {
        assert_eq!(
            page_names(&["2024-03-02T081500Z", "a/../b", "", "2024-03-02T081500Z", "..", "x y"]),
            vec!["2024-03-02T081500Z", "a-..-b", "page", "2024-03-02T081500Z-2", "page-2", "x-y"]
        );
    }

    proptest! {
        /// Any feed: the pages cover every entry once, in order, each within the bounds
        /// (only the newest may be short), and a page ends early only on a cut card.
        #[test]
        fn pages_partition_the_feed_within_their_bounds(
            hashes in proptest::collection::vec(any::<u64>(), 0..600),
        ) {
            let cs = chunks(&hashes);
            let mut next = 0;
            for (k, r) in cs.iter().enumerate() {
                prop_assert_eq!(r.start, next);
                prop_assert!(r.len() <= MAX_CARDS && !r.is_empty());
                if k + 1 < cs.len() {
                    prop_assert!(r.len() >= MIN_CARDS);
                    let last = hashes[r.end - 1];
                    prop_assert!(r.len() == MAX_CARDS || last % CUT_ODDS == 0);
                    // No earlier card of the page could have ended it.
                    for h in &hashes[r.start + MIN_CARDS - 1..r.end - 1] {
                        prop_assert!(h % CUT_ODDS != 0);
                    }
                }
                next = r.end;
            }
            prop_assert_eq!(next, hashes.len());
        }

        /// Adding entries at the new end never changes an archive page but the newest.
        #[test]
        fn newer_entries_leave_older_pages_alone(
            hashes in proptest::collection::vec(any::<u64>(), 0..600),
            more in proptest::collection::vec(any::<u64>(), 1..60),
        ) {
            let before = chunks(&hashes);
            let mut longer = hashes;
            longer.extend(&more);
            let after = chunks(&longer);
            let full = before.len().saturating_sub(1);
            prop_assert_eq!(&before[..full], &after[..full]);
        }

        /// The layout's archive ranges are the oldest-first chunks, seen from the newest end.
        #[test]
        fn the_layout_mirrors_the_chunks(
            hashes in proptest::collection::vec(any::<u64>(), 0..400),
        ) {
            let l = layout(&hashes, 48);
            let total = hashes.len();
            if total <= 48 {
                prop_assert!(l.archives.is_empty());
            } else {
                let oldest_first: Vec<u64> = hashes.iter().rev().copied().collect();
                let cs = chunks(&oldest_first);
                prop_assert_eq!(l.archives.len(), cs.len());
                for (a, c) in l.archives.iter().zip(&cs) {
                    prop_assert_eq!(a.clone(), total - c.end..total - c.start);
                }
            }
        }
    }
}
