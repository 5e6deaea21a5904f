//! Where things are in JSON text, without building it: a pull scanner over
//! a byte stream (for a trace too long to hold), and helpers over a short
//! text already in memory (one op), all by byte offset.
//!
//! The scanner checks the structure it walks (brackets, strings, commas,
//! colons); the values it hands out are parsed by serde_json, which checks
//! the rest.

use std::io::{self, BufRead};
use std::ops::Range;

/// A place in the text: its byte offset, and its 1-based line and column
/// (in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Pos {
    pub offset: usize,
    pub line: u32,
    pub column: u32,
}

impl Pos {
    pub const START: Pos = Pos {
        offset: 0,
        line: 1,
        column: 1,
    };

    /// The place `text[..len]` further on, `text` starting here.
    pub fn advanced(self, text: &[u8], len: usize) -> Pos {
        let mut pos = self;
        for &b in &text[..len.min(text.len())] {
            pos.step(b);
        }
        pos
    }

    fn step(&mut self, b: u8) {
        self.offset += 1;
        if b == b'\n' {
            self.line += 1;
            self.column = 1;
        } else if b & 0xC0 != 0x80 {
            // A continuation byte belongs to the character before it.
            self.column += 1;
        }
    }
}

/// What went wrong while scanning, and where.
#[derive(Debug)]
pub(super) enum ScanError {
    Io(io::Error),
    /// The text is not JSON here: what was expected.
    Syntax {
        at: Pos,
        expected: String,
    },
    /// A value to be copied (one op, a top-level member) that starts at
    /// `at` runs past [`MAX_VALUE`] bytes.
    TooLong {
        at: Pos,
    },
}

/// The most bytes one copied value may have: an op is a few hundred bytes,
/// and a value that never ends must not take all memory.
pub(super) const MAX_VALUE: usize = 16 << 20;

impl From<io::Error> for ScanError {
    fn from(e: io::Error) -> Self {
        ScanError::Io(e)
    }
}

/// A pull scanner over a byte stream. The UTF-8 byte order mark, when the
/// stream starts with one, is skipped: offsets count from after it.
pub(super) struct Scanner<R> {
    reader: R,
    pos: Pos,
}

impl<R: BufRead> Scanner<R> {
    pub fn new(mut reader: R) -> io::Result<Self> {
        let buf = reader.fill_buf()?;
        if buf.starts_with(b"\xEF\xBB\xBF") {
            reader.consume(3);
        }
        Ok(Scanner {
            reader,
            pos: Pos::START,
        })
    }

    /// A scanner over the rest of a text, at `pos` (found by an earlier pass).
    pub fn resume(reader: R, pos: Pos) -> Self {
        Scanner { reader, pos }
    }

    /// The reader underneath, for counting past the scanner.
    pub fn reader_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    pub fn pos(&self) -> Pos {
        self.pos
    }

    pub fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(self.reader.fill_buf()?.first().copied())
    }

    fn bump(&mut self, into: &mut Option<&mut Vec<u8>>) -> io::Result<Option<u8>> {
        let Some(b) = self.peek()? else {
            return Ok(None);
        };
        self.reader.consume(1);
        self.pos.step(b);
        if let Some(out) = into {
            out.push(b);
        }
        Ok(Some(b))
    }

    pub fn skip_ws(&mut self) -> io::Result<()> {
        loop {
            let buf = self.reader.fill_buf()?;
            let n = buf
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
                .count();
            if n == 0 {
                return Ok(());
            }
            let mut pos = self.pos;
            for &b in &buf[..n] {
                pos.step(b);
            }
            self.pos = pos;
            self.reader.consume(n);
        }
    }

    fn expected(&self, what: impl Into<String>) -> ScanError {
        ScanError::Syntax {
            at: self.pos,
            expected: what.into(),
        }
    }

    /// Consumes `byte` (after white space), or fails saying `what` was expected.
    pub fn expect(&mut self, byte: u8, what: &str) -> Result<(), ScanError> {
        self.skip_ws()?;
        if self.peek()? == Some(byte) {
            self.bump(&mut None)?;
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    /// After an item of an object or array: `,` (true, another follows) or
    /// the closing bracket (false).
    pub fn next_item(&mut self, close: u8) -> Result<bool, ScanError> {
        self.skip_ws()?;
        match self.peek()? {
            Some(b',') => {
                self.bump(&mut None)?;
                self.skip_ws()?;
                Ok(true)
            }
            Some(b) if b == close => {
                self.bump(&mut None)?;
                Ok(false)
            }
            _ => Err(self.expected(format!("`,` or `{}`", close as char))),
        }
    }

    /// Whether the closing bracket comes next (an empty object or array);
    /// consumes it if so.
    pub fn closes(&mut self, close: u8) -> io::Result<bool> {
        self.skip_ws()?;
        if self.peek()? == Some(close) {
            self.bump(&mut None)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Reads one value, copying its bytes into `into` when given (skipping
    /// it otherwise, in constant memory).
    pub fn value(&mut self, mut into: Option<&mut Vec<u8>>) -> Result<(), ScanError> {
        self.skip_ws()?;
        let start = self.pos;
        let mut depth = 0usize;
        loop {
            if into.as_ref().is_some_and(|out| out.len() > MAX_VALUE) {
                return Err(ScanError::TooLong { at: start });
            }
            match self.peek()? {
                None => return Err(self.expected("a value (the text ends here)")),
                Some(b'"') => self.string(&mut into).map_err(|e| match e {
                    // Said of the whole value, not of the string in it.
                    ScanError::TooLong { .. } => ScanError::TooLong { at: start },
                    other => other,
                })?,
                Some(b'{' | b'[') => {
                    depth += 1;
                    self.bump(&mut into)?;
                }
                Some(b'}' | b']') if depth > 0 => {
                    depth -= 1;
                    self.bump(&mut into)?;
                }
                Some(b',' | b':' | b' ' | b'\t' | b'\n' | b'\r') if depth > 0 => {
                    self.bump(&mut into)?;
                }
                Some(b'}' | b']' | b',' | b':') => return Err(self.expected("a value")),
                Some(_) => {
                    // A number or a literal: up to the next delimiter.
                    let start = self.pos.offset;
                    while let Some(b) = self.peek()? {
                        if matches!(
                            b,
                            b',' | b':' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r' | b'"'
                        ) {
                            break;
                        }
                        self.bump(&mut into)?;
                    }
                    if self.pos.offset == start {
                        return Err(self.expected("a value"));
                    }
                }
            }
            if depth == 0 {
                return Ok(());
            }
        }
    }

    /// A string, from its opening quote to just after the closing one.
    pub fn string(&mut self, into: &mut Option<&mut Vec<u8>>) -> Result<(), ScanError> {
        if self.peek()? != Some(b'"') {
            return Err(self.expected("a string"));
        }
        let start = self.pos;
        self.bump(into)?;
        loop {
            if into.as_ref().is_some_and(|out| out.len() > MAX_VALUE) {
                return Err(ScanError::TooLong { at: start });
            }
            match self.bump(into)? {
                None => return Err(self.expected("the end of the string (`\"`)")),
                Some(b'\\') => {
                    self.bump(into)?;
                }
                Some(b'"') => return Ok(()),
                Some(_) => {}
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Over a short text in memory that serde_json has already accepted: the
// members of an object and the items of an array, by byte range.

pub(super) struct Member<'t> {
    /// The key as written between its quotes.
    pub key: &'t str,
    pub key_start: usize,
    pub value_start: usize,
    pub value_end: usize,
}

pub(super) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// From an opening quote to just after the closing one.
fn skip_string(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// From the start of a value to just after it.
pub(super) fn skip_value(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(b'"') => skip_string(b, i),
        Some(b'{') | Some(b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = skip_string(b, j);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            b.len()
        }
        Some(_) => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                j += 1;
            }
            j
        }
        None => i,
    }
}

/// The members of the object starting at `i` (empty when it is not one).
pub(super) fn object_members(b: &[u8], i: usize) -> Vec<Member<'_>> {
    let mut out = Vec::new();
    if b.get(i) != Some(&b'{') {
        return out;
    }
    let mut j = skip_ws(b, i + 1);
    while j < b.len() && b[j] == b'"' {
        let key_start = j;
        let key_end = skip_string(b, j);
        let key =
            std::str::from_utf8(&b[key_start + 1..key_end.saturating_sub(1).max(key_start + 1)])
                .unwrap_or("");
        j = skip_ws(b, key_end);
        if b.get(j) == Some(&b':') {
            j = skip_ws(b, j + 1);
        }
        let value_start = j;
        let value_end = skip_value(b, j);
        out.push(Member {
            key,
            key_start,
            value_start,
            value_end,
        });
        j = skip_ws(b, value_end);
        if b.get(j) == Some(&b',') {
            j = skip_ws(b, j + 1);
        } else {
            break;
        }
    }
    out
}

/// The first member whose key an earlier member already has, with that
/// earlier member. serde_json keeps the last of duplicate keys, so a second
/// `"stream"` would silently replace the first: the reader refuses it.
pub(super) fn duplicate<'m, 't>(
    members: &'m [Member<'t>],
) -> Option<(&'m Member<'t>, &'m Member<'t>)> {
    members.iter().enumerate().find_map(|(i, m)| {
        members[..i]
            .iter()
            .find(|first| first.key == m.key)
            .map(|first| (first, m))
    })
}

/// The byte ranges of the items of the array starting at `i`.
pub(super) fn array_items(b: &[u8], i: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    if b.get(i) != Some(&b'[') {
        return out;
    }
    let mut j = skip_ws(b, i + 1);
    while j < b.len() && b[j] != b']' {
        let end = skip_value(b, j);
        out.push(j..end);
        j = skip_ws(b, end);
        if b.get(j) == Some(&b',') {
            j = skip_ws(b, j + 1);
        } else {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scanner_copies_or_skips_values_and_tracks_places() {
        let text = "\u{feff}{\"a\": [1, {\"b\": \"]\"}],\n \"é\": \"x\\\"y\"}";
        let mut s = Scanner::new(text.as_bytes()).unwrap();
        s.expect(b'{', "`{`").unwrap();
        s.skip_ws().unwrap();
        let mut key = Vec::new();
        s.string(&mut Some(&mut key)).unwrap();
        assert_eq!(key, b"\"a\"");
        s.expect(b':', "`:`").unwrap();
        let mut value = Vec::new();
        s.value(Some(&mut value)).unwrap();
        assert_eq!(value, br#"[1, {"b": "]"}]"#);
        assert!(s.next_item(b'}').unwrap());
        assert_eq!((s.pos().line, s.pos().column), (2, 2));
        s.string(&mut None).unwrap();
        assert_eq!(s.pos().column, 5, "a character is one column");
        s.expect(b':', "`:`").unwrap();
        s.value(None).unwrap();
        assert!(!s.next_item(b'}').unwrap());
        assert_eq!(s.peek().unwrap(), None);
    }

    #[test]
    fn the_scanner_says_what_it_expected_where() {
        let mut s = Scanner::new(&b"{\"a\" 1}"[..]).unwrap();
        s.expect(b'{', "`{`").unwrap();
        s.skip_ws().unwrap();
        s.string(&mut None).unwrap();
        match s.expect(b':', "`:`") {
            Err(ScanError::Syntax { at, expected }) => {
                assert_eq!((at.offset, expected.as_str()), (5, "`:`"));
            }
            other => panic!("{other:?}"),
        }
        let mut s = Scanner::new(&b"[1, 2"[..]).unwrap();
        assert!(matches!(s.value(None), Err(ScanError::Syntax { .. })));
        let long = format!("[\"{}\"]", "x".repeat(MAX_VALUE + 1));
        let mut s = Scanner::new(long.as_bytes()).unwrap();
        assert!(matches!(
            s.value(Some(&mut Vec::new())),
            Err(ScanError::TooLong { at }) if at.offset == 0
        ));
        let mut s = Scanner::new(long.as_bytes()).unwrap();
        assert!(s.value(None).is_ok(), "skipping costs no memory");
    }

    #[test]
    fn members_items_and_duplicates_of_a_short_text() {
        let text = r#"{"a": [1, {"b": "]"}, "x\"y"], "c" : {"d": [ ]}, "a": 2}"#;
        let b = text.as_bytes();
        let m = object_members(b, 0);
        assert_eq!(m.iter().map(|m| m.key).collect::<Vec<_>>(), ["a", "c", "a"]);
        let items = array_items(b, m[0].value_start);
        let items: Vec<&str> = items.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(items, ["1", r#"{"b": "]"}"#, r#""x\"y""#]);
        assert_eq!(&text[m[1].value_start..m[1].value_end], r#"{"d": [ ]}"#);
        let (first, second) = duplicate(&m).unwrap();
        assert_eq!((first.key_start, second.key), (1, "a"));
        assert!(duplicate(&m[..2]).is_none());
    }
}
