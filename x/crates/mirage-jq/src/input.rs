//! Reading a sequence of JSON values from input that arrives in chunks:
//! each value is handed out as soon as its bytes are in, so `jq` streams.

use jaq_json::Val;

/// What [`ValueReader::next_value`] found.
#[derive(Debug)]
pub enum Next {
    /// A complete value; `line` is jq 1.6's location for error messages
    /// (newlines read up to the value's end and the byte after it).
    Value(Val, usize),
    /// The buffered bytes end inside a value: push more (or finish).
    NeedMore,
    /// No more values.
    End,
    /// Bad JSON, worded as jq 1.6's `parse error: …` message (without the prefix).
    Error(String),
}

/// An incremental reader of whitespace-separated JSON values.
#[derive(Debug, Default)]
pub struct ValueReader {
    buf: Vec<u8>,
    pos: usize,
    /// Do not try to parse again before the buffer holds this many bytes
    /// (doubling, so a large value costs linear time, not quadratic).
    retry_at: usize,
    /// Newlines before `pos`.
    lines: usize,
    eof: bool,
    /// Values parsed ahead by the fallback parser (see [`ValueReader::next_value`]).
    ahead: std::collections::VecDeque<Val>,
}

impl ValueReader {
    /// An empty reader.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes of input.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.retry_at = self.retry_at.saturating_sub(self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// Marks the end of input.
    pub fn finish(&mut self) {
        self.eof = true;
    }

    /// The next value, if its bytes are all in.
    pub fn next_value(&mut self) -> Next {
        if let Some(v) = self.ahead.pop_front() {
            return Next::Value(v, self.lines);
        }
        while self.pos < self.buf.len()
            && matches!(self.buf[self.pos], b' ' | b'\t' | b'\n' | b'\r')
        {
            if self.buf[self.pos] == b'\n' {
                self.lines += 1;
            }
            self.pos += 1;
        }
        let len = self.buf.len();
        if self.pos == len {
            return if self.eof { Next::End } else { Next::NeedMore };
        }
        if !self.eof && len < self.retry_at {
            return Next::NeedMore;
        }
        let rest = &self.buf[self.pos..];
        let mut it = serde_json::Deserializer::from_slice(rest).into_iter::<Val>();
        match it.next() {
            Some(Ok(v)) => {
                let end = self.pos + it.byte_offset();
                if end == len && !self.eof {
                    // A number may go on in the next chunk.
                    self.retry_at = len + 1;
                    return Next::NeedMore;
                }
                self.lines += memchr_count(&self.buf[self.pos..end]);
                self.pos = end;
                self.retry_at = 0;
                let after = usize::from(self.buf.get(end) == Some(&b'\n'));
                Next::Value(v, self.lines + after)
            }
            Some(Err(e))
                if e.to_string().starts_with("number out of range")
                    || e.to_string().starts_with("invalid unicode code point") =>
            {
                // serde_json refuses `1e1000` and invalid UTF-8 in strings;
                // jq 1.6 reads the first as the largest double and the
                // second with U+FFFD. jaq's own parser takes both (a decimal
                // string; the bytes as they are, which our writer prints
                // as U+FFFD): hand it the rest of the input, once all in.
                if !self.eof {
                    self.retry_at = usize::MAX;
                    return Next::NeedMore;
                }
                let rest = self.buf[self.pos..].to_vec();
                self.lines += memchr_count(&rest);
                self.pos = len;
                for v in jaq_json::read::parse_many(&rest) {
                    match v {
                        Ok(v) => self.ahead.push_back(v),
                        Err(e) => {
                            if self.ahead.is_empty() {
                                return Next::Error(format!("{e}"));
                            }
                            break;
                        }
                    }
                }
                self.next_value()
            }
            Some(Err(e)) if e.is_eof() && !self.eof => {
                self.retry_at = self.pos + 2 * (len - self.pos);
                Next::NeedMore
            }
            Some(Err(e)) if e.is_eof() => {
                // jq names the end: its line and the bytes on it so far.
                let line = self.lines + memchr_count(rest) + 1;
                let col = len
                    - self
                        .buf
                        .iter()
                        .rposition(|&b| b == b'\n')
                        .map_or(0, |i| i + 1);
                self.pos = len;
                Next::Error(format!(
                    "Unfinished JSON term at EOF at line {line}, column {col}"
                ))
            }
            Some(Err(e)) => {
                let line = self.lines + e.line();
                let what = if e.is_eof() {
                    "Unfinished JSON term at EOF"
                } else {
                    let bad = rest
                        .iter()
                        .find(|b| !b.is_ascii_whitespace())
                        .copied()
                        .unwrap_or(b' ');
                    if bad.is_ascii_alphabetic() {
                        "Invalid literal"
                    } else {
                        "Invalid numeric literal"
                    }
                };
                self.pos = len;
                Next::Error(format!("{what} at line {line}, column {}", e.column()))
            }
            None => Next::End,
        }
    }
}

fn memchr_count(b: &[u8]) -> usize {
    b.iter().filter(|&&c| c == b'\n').count()
}

/// Parses `text` as exactly one JSON value (surrounding whitespace allowed),
/// as `--argjson` takes it; `None` when it is not.
pub fn parse_one(text: &[u8]) -> Option<Val> {
    let mut r = ValueReader::new();
    r.push(text);
    r.finish();
    let Next::Value(v, _) = r.next_value() else {
        return None;
    };
    matches!(r.next_value(), Next::End).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(chunks: &[&str]) -> Vec<String> {
        let mut r = ValueReader::new();
        let mut out = Vec::new();
        let mut chunks = chunks.iter();
        loop {
            match r.next_value() {
                Next::Value(v, line) => out.push(format!("{v}@{line}")),
                Next::NeedMore => match chunks.next() {
                    Some(c) => r.push(c.as_bytes()),
                    None => r.finish(),
                },
                Next::End => return out,
                Next::Error(e) => {
                    out.push(format!("error: {e}"));
                    return out;
                }
            }
        }
    }

    #[test]
    fn values_across_chunks() {
        assert_eq!(values(&["1", "2 3"]), ["12@0", "3@0"]);
        assert_eq!(
            values(&["{\"a\"", ":[1,", "2]}\n[", "]\n"]),
            ["{\"a\":[1,2]}@1", "[]@2"]
        );
        assert_eq!(values(&["[1]\n[2]\n[3]\n"]), ["[1]@1", "[2]@2", "[3]@3"]);
        assert_eq!(values(&["{\n\"a\":\n[1]\n}\n\n\n"]), ["{\"a\":[1]}@4"]);
        assert_eq!(values(&["  "]), Vec::<String>::new());
        assert!(values(&["[1,"])[0].starts_with("error: Unfinished JSON term at EOF"));
        assert!(values(&["{bad json"])[0].starts_with("error: "));
        assert_eq!(values(&["[1e1000] ", "2"]).len(), 2);
        let mut r = ValueReader::new();
        r.push(b"\"a\xffb\" 1");
        r.finish();
        assert!(matches!(r.next_value(), Next::Value(..)));
        assert!(matches!(r.next_value(), Next::Value(..)));
    }
}
