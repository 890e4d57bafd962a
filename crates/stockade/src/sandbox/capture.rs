//! Captured output with a cap (`limits.max_output`, per stream): the first
//! half is kept as it came, the last half as a sliding window, and what
//! fell between them is counted. The tail is whatever came last, so
//! nothing a command prints just before it exits is lost.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// One stream being captured.
#[derive(Debug)]
pub struct Capture {
    head_cap: usize,
    tail_cap: usize,
    head: Vec<u8>,
    tail: VecDeque<u8>,
    total: u64,
}

/// What was captured of one stream.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Captured {
    /// The first bytes, then (after `dropped` bytes left out) the last.
    pub bytes: Vec<u8>,
    /// How many bytes were left out.
    pub dropped: u64,
    /// Where in `bytes` they were left out (the length of the head).
    pub dropped_at: usize,
}

impl Capture {
    /// A capture keeping at most `max` bytes in all.
    pub fn new(max: usize) -> Capture {
        let head_cap = max / 2;
        Capture {
            head_cap,
            tail_cap: max - head_cap,
            head: Vec::new(),
            tail: VecDeque::new(),
            total: 0,
        }
    }

    /// Adds what the stream produced next.
    pub fn push(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        if self.head.len() < self.head_cap {
            let n = data.len().min(self.head_cap - self.head.len());
            self.head.extend_from_slice(&data[..n]);
            data = &data[n..];
        }
        if data.len() >= self.tail_cap {
            self.tail.clear();
            self.tail.extend(&data[data.len() - self.tail_cap..]);
            return;
        }
        let overflow = (self.tail.len() + data.len()).saturating_sub(self.tail_cap);
        self.tail.drain(..overflow);
        self.tail.extend(data);
    }

    /// Bytes seen so far.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The capture as it stands.
    pub fn finish(self) -> Captured {
        let kept = (self.head.len() + self.tail.len()) as u64;
        let dropped_at = self.head.len();
        let mut bytes = self.head;
        bytes.extend(self.tail);
        Captured {
            bytes,
            dropped: self.total - kept,
            dropped_at,
        }
    }
}

impl Captured {
    /// The bytes as text, with invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captured(max: usize, chunks: &[&[u8]]) -> Captured {
        let mut c = Capture::new(max);
        for chunk in chunks {
            c.push(chunk);
        }
        c.finish()
    }

    #[test]
    fn under_the_cap_everything_is_kept() {
        let c = captured(10, &[b"abc", b"def"]);
        assert_eq!(c.bytes, b"abcdef");
        assert_eq!(c.dropped, 0);
    }

    #[test]
    fn over_the_cap_the_first_and_last_halves_are_kept() {
        let c = captured(6, &[b"0123", b"456789"]);
        assert_eq!(c.bytes, b"012789");
        assert_eq!((c.dropped, c.dropped_at), (4, 3));
        // One large chunk, and many small ones, alike.
        assert_eq!(captured(6, &[b"0123456789"]), c);
        let bytes: Vec<&[u8]> = b"0123456789".chunks(1).collect();
        assert_eq!(captured(6, &bytes), c);
    }

    #[test]
    fn the_tail_is_the_very_end() {
        let mut c = Capture::new(8);
        for i in 0..1000u32 {
            c.push(i.to_string().as_bytes());
        }
        c.push(b"END");
        let c = c.finish();
        assert_eq!(c.text(), "01239END");
        assert_eq!(c.dropped_at, 4);
        assert_eq!(c.dropped, 2893 - 8);
    }

    #[test]
    fn a_zero_cap_keeps_nothing_and_counts_everything() {
        let c = captured(0, &[b"abc"]);
        assert!(c.bytes.is_empty());
        assert_eq!(c.dropped, 3);
    }
}
