//! A session's output: everything it printed, addressed by absolute byte
//! offset (the cursor), of which the last `cap` bytes are kept. A reader
//! that fell behind is told how many bytes it lost.

use std::collections::VecDeque;

/// The kept window of a session's output.
#[derive(Debug)]
pub(crate) struct OutputLog {
    /// Offset of the first kept byte.
    start: u64,
    kept: VecDeque<u8>,
    cap: usize,
}

/// One read from the log.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Slice {
    pub bytes: Vec<u8>,
    /// The cursor to read from next.
    pub next: u64,
    /// Bytes between the cursor asked for and the oldest kept one.
    pub dropped: u64,
}

impl OutputLog {
    pub(crate) fn new(cap: usize) -> OutputLog {
        OutputLog {
            start: 0,
            kept: VecDeque::new(),
            cap,
        }
    }

    /// Appends output, forgetting the oldest beyond the cap.
    pub(crate) fn push(&mut self, data: &[u8]) {
        let data = if data.len() > self.cap {
            self.start += (data.len() - self.cap) as u64;
            &data[data.len() - self.cap..]
        } else {
            data
        };
        let overflow = (self.kept.len() + data.len()).saturating_sub(self.cap);
        self.kept.drain(..overflow);
        self.start += overflow as u64;
        self.kept.extend(data);
    }

    /// The offset just past the last byte.
    pub(crate) fn end(&self) -> u64 {
        self.start + self.kept.len() as u64
    }

    /// Everything from `cursor` on, at most `max` bytes. A cursor past the
    /// end reads nothing and stays at the end.
    pub(crate) fn read(&self, cursor: u64, max: usize) -> Slice {
        let from = cursor.clamp(self.start, self.end());
        let dropped = self.start.saturating_sub(cursor);
        let skip = (from - self.start) as usize;
        let bytes: Vec<u8> = self.kept.iter().skip(skip).take(max).copied().collect();
        Slice {
            next: from + bytes.len() as u64,
            bytes,
            dropped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_continue_from_the_cursor() {
        let mut log = OutputLog::new(100);
        log.push(b"hello ");
        let first = log.read(0, usize::MAX);
        assert_eq!((first.bytes.as_slice(), first.next), (&b"hello "[..], 6));
        log.push(b"world");
        let second = log.read(first.next, usize::MAX);
        assert_eq!(second.bytes, b"world");
        assert_eq!(second.dropped, 0);
        assert_eq!(log.read(second.next, usize::MAX).bytes, b"");
    }

    #[test]
    fn a_reader_that_fell_behind_is_told_what_it_lost() {
        let mut log = OutputLog::new(4);
        log.push(b"abcdef");
        log.push(b"gh");
        let s = log.read(0, usize::MAX);
        assert_eq!(s.bytes, b"efgh");
        assert_eq!(s.dropped, 4);
        assert_eq!(s.next, 8);
        // One byte at a time, the same.
        let mut log = OutputLog::new(4);
        for b in b"abcdefgh" {
            log.push(&[*b]);
        }
        assert_eq!(log.read(0, usize::MAX), s);
    }

    #[test]
    fn max_bounds_a_read_and_a_cursor_past_the_end_stays_there() {
        let mut log = OutputLog::new(10);
        log.push(b"0123456789");
        let s = log.read(2, 3);
        assert_eq!((s.bytes.as_slice(), s.next), (&b"234"[..], 5));
        let s = log.read(99, 3);
        assert_eq!((s.bytes.len(), s.next, s.dropped), (0, 10, 0));
    }
}
