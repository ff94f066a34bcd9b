//! Reading an export file as a table of text cells: decompression, text encoding, delimiter,
//! header lookup and line numbers for error messages.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

use crate::error::user;

/// Text encodings scudo reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextEncoding {
    /// BOM if present; else UTF-8 where a cell is valid UTF-8 and Windows-1252 where it is not.
    #[default]
    Auto,
    Fixed(&'static Encoding),
}

/// How cells are separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    /// Detected from the first line among `,` `;` tab and `|`.
    Detect,
    Char(u8),
    /// Runs of spaces or tabs, no quoting (fixed-width-ish text files such as CDNOW).
    Whitespace,
}

/// Options for opening a table.
#[derive(Debug, Clone, Copy)]
pub struct TableOptions {
    pub encoding: TextEncoding,
    pub delimiter: Delimiter,
    pub has_header: bool,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions { encoding: TextEncoding::Auto, delimiter: Delimiter::Detect, has_header: true }
    }
}

/// Column names with case-insensitive lookup; a repeated name resolves to its first column.
#[derive(Debug, Clone, Default)]
pub struct Header {
    pub names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Header {
    pub fn new(names: Vec<String>) -> Header {
        let mut index = HashMap::new();
        for (i, n) in names.iter().enumerate() {
            index.entry(n.trim().to_lowercase()).or_insert(i);
        }
        Header { names, index }
    }

    /// The column called `name` (any case).
    pub fn get(&self, name: &str) -> Option<usize> {
        self.index.get(&name.to_lowercase()).copied()
    }

    /// The first of `names` that exists.
    pub fn any(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.get(n))
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// One record with the line it starts on. The cells share one buffer (no allocation per cell).
#[derive(Debug, Clone)]
pub struct Row {
    pub line: u64,
    pub fields: csv::StringRecord,
}

impl Row {
    /// A row from separate cells (tests, whitespace files).
    pub fn from_cells<S: AsRef<str>>(line: u64, cells: &[S]) -> Row {
        Row { line, fields: cells.iter().map(AsRef::as_ref).collect() }
    }

    /// The cell at `col`, or "" when the column is absent.
    pub fn get(&self, col: Option<usize>) -> &str {
        col.and_then(|c| self.fields.get(c)).unwrap_or("")
    }

    /// The record as one CSV line, for the rejects file.
    pub fn to_csv(&self) -> String {
        let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
        let _ = w.write_record(&self.fields);
        let bytes = w.into_inner().unwrap_or_default();
        String::from_utf8_lossy(&bytes).trim_end().to_string()
    }

    pub fn is_blank(&self) -> bool {
        self.fields.iter().all(|f| f.trim().is_empty())
    }
}

enum Source {
    Csv(csv::Reader<Box<dyn Read + Send>>, csv::ByteRecord),
    /// Whitespace-separated lines: the reader, bytes read, lines read.
    Lines(BufReader<Box<dyn Read + Send>>, u64, u64),
    /// A worksheet of a workbook, read whole: (row number, cells).
    Sheet(std::vec::IntoIter<(u64, Vec<String>)>),
}

/// An open export file.
pub struct Table {
    pub path: PathBuf,
    pub header: Header,
    source: Source,
    decode: Option<&'static Encoding>,
    /// Bytes consumed so far (of the decompressed, decoded stream), for progress.
    pub total_bytes: u64,
}

impl Table {
    /// Opens `path`. Whole-file problems (missing, empty, binary) are errors naming the file.
    pub fn open(path: &Path, opts: TableOptions) -> Result<Table> {
        Table::open_sheet(path, opts, None)
    }

    /// Opens `path`; an Excel workbook is read from worksheet `sheet` (default: the first).
    pub fn open_sheet(path: &Path, opts: TableOptions, sheet: Option<&str>) -> Result<Table> {
        if super::workbook::is_workbook(path) {
            let rows = super::workbook::read_sheet(path, sheet)?;
            let total_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            let source = Source::Sheet(rows.into_iter());
            let mut table =
                Table { path: path.to_path_buf(), header: Header::default(), source, decode: None, total_bytes };
            if opts.has_header {
                table.read_header()?;
            }
            return Ok(table);
        }
        if sheet.is_some() {
            return Err(user(format!(
                "{}: --sheet is for Excel workbooks (.xlsx), and this is not one",
                path.display()
            )));
        }
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let total_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut raw = BufReader::with_capacity(1 << 16, file);
        let head = raw.fill_buf().with_context(|| format!("cannot read {}", path.display()))?;
        let stream: Box<dyn Read + Send> = if head.starts_with(&[0x1f, 0x8b]) {
            Box::new(flate2::read::MultiGzDecoder::new(raw))
        } else {
            Box::new(raw)
        };
        let mut stream = BufReader::with_capacity(1 << 16, stream);
        let head = stream.fill_buf().with_context(|| format!("cannot read {}", path.display()))?.to_vec();
        if head.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(user(format!("{} is empty: there is no header and no data", path.display())));
        }
        let (encoding, bom) = match opts.encoding {
            TextEncoding::Fixed(e) => (Some(e), false),
            TextEncoding::Auto => sniff_encoding(&head),
        };
        if encoding.is_none() && looks_binary(&head) {
            return Err(user(format!(
                "{} is not a text file (it holds NUL bytes); export it as CSV and try again",
                path.display()
            )));
        }
        let (reader, decode): (Box<dyn Read + Send>, Option<&'static Encoding>) = match encoding {
            // UTF-8 with a BOM, UTF-16 or an explicit encoding: transcode the stream to UTF-8.
            Some(e) if bom || e != UTF_8 => (
                Box::new(
                    encoding_rs_io::DecodeReaderBytesBuilder::new().encoding(Some(e)).bom_override(true).build(stream),
                ),
                None,
            ),
            Some(_) => (Box::new(stream), None),
            None => (Box::new(stream), Some(WINDOWS_1252)),
        };
        let mut reader = BufReader::with_capacity(1 << 16, reader);
        let delimiter = match opts.delimiter {
            Delimiter::Detect => {
                let first = reader.fill_buf().unwrap_or(&[]);
                Delimiter::Char(detect_delimiter(first))
            }
            d => d,
        };
        let source = match delimiter {
            Delimiter::Whitespace => Source::Lines(BufReader::new(Box::new(reader) as Box<dyn Read + Send>), 0, 0),
            Delimiter::Char(d) => {
                let r = csv::ReaderBuilder::new()
                    .delimiter(d)
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(Box::new(reader) as Box<dyn Read + Send>);
                Source::Csv(r, csv::ByteRecord::new())
            }
            Delimiter::Detect => unreachable!("resolved above"),
        };
        let mut table = Table { path: path.to_path_buf(), header: Header::default(), source, decode, total_bytes };
        if opts.has_header {
            table.read_header()?;
        }
        Ok(table)
    }

    fn read_header(&mut self) -> Result<()> {
        let Some(row) = self.next_row()? else {
            return Err(user(format!("{} is empty: there is no header", self.path.display())));
        };
        let names = row.fields.iter().map(|n| n.trim_start_matches('\u{feff}').trim().to_string()).collect();
        self.header = Header::new(names);
        Ok(())
    }

    /// The file name for messages.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// Bytes read so far.
    pub fn position(&self) -> u64 {
        match &self.source {
            Source::Csv(r, _) => r.position().byte(),
            Source::Lines(_, pos, _) => *pos,
            Source::Sheet(_) => 0,
        }
    }

    /// The next record, or `None` at the end. Blank lines are skipped.
    pub fn next_row(&mut self) -> Result<Option<Row>> {
        let name = self.path.display().to_string();
        match &mut self.source {
            Source::Sheet(rows) => {
                Ok(rows.next().map(|(line, cells)| Row { line, fields: cells.into_iter().collect() }))
            }
            Source::Csv(reader, record) => loop {
                let more = reader.read_byte_record(record).map_err(|e| csv_error(&name, &e))?;
                if !more {
                    return Ok(None);
                }
                let line = record.position().map(|p| p.line()).unwrap_or(0);
                let fields = match csv::StringRecord::from_byte_record(record.clone()) {
                    Ok(r) => r,
                    // Not UTF-8: decode cell by cell (Windows-1252 unless told otherwise).
                    Err(_) => record.iter().map(|f| decode_cell(f, self.decode)).collect(),
                };
                let row = Row { line, fields };
                if !row.is_blank() || row.fields.len() > 1 {
                    return Ok(Some(row));
                }
            },
            Source::Lines(reader, pos, lines) => {
                let mut buf = Vec::new();
                loop {
                    buf.clear();
                    let n = reader.read_until(b'\n', &mut buf).with_context(|| format!("cannot read {name}"))?;
                    if n == 0 {
                        return Ok(None);
                    }
                    *pos += n as u64;
                    *lines += 1;
                    let text = decode_cell(&buf, self.decode);
                    let fields: csv::StringRecord = text.split_whitespace().collect();
                    if !fields.is_empty() {
                        return Ok(Some(Row { line: *lines, fields }));
                    }
                }
            }
        }
    }

    /// The next record, requiring it to have as many cells as the header: a ragged row means the
    /// file is not what it claims to be (wrong delimiter, truncated export), so nothing is imported.
    pub fn next_full_row(&mut self) -> Result<Option<Row>> {
        let Some(row) = self.next_row()? else { return Ok(None) };
        let want = self.header.names.len();
        if want > 0 && row.fields.len() != want {
            return Err(user(format!(
                "{} line {}: the row has {} cells but the header has {}; the file is ragged \
                 (a wrong delimiter or a damaged export), so nothing was imported",
                self.name(),
                row.line,
                row.fields.len(),
                want
            )));
        }
        Ok(Some(row))
    }
}

fn decode_cell(bytes: &[u8], fallback: Option<&'static Encoding>) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => fallback.unwrap_or(WINDOWS_1252).decode_without_bom_handling(bytes).0.into_owned(),
    }
}

fn csv_error(name: &str, e: &csv::Error) -> anyhow::Error {
    let at = e.position().map(|p| format!(" line {}", p.line())).unwrap_or_default();
    user(format!("{name}{at}: cannot read the CSV: {e}"))
}

/// Returns the encoding to transcode from (None: UTF-8 with per-cell Windows-1252 fallback) and
/// whether a BOM was seen.
fn sniff_encoding(head: &[u8]) -> (Option<&'static Encoding>, bool) {
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return (Some(UTF_8), true);
    }
    if head.starts_with(&[0xFF, 0xFE]) {
        return (Some(UTF_16LE), true);
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return (Some(UTF_16BE), true);
    }
    // UTF-16 without a BOM: every other byte of ASCII text is NUL.
    let sample = &head[..head.len().min(512)];
    if sample.len() >= 4 {
        let odd_nul = sample.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
        let even_nul = sample.iter().step_by(2).filter(|b| **b == 0).count();
        let half = sample.len() / 2;
        if odd_nul * 10 >= half * 9 && even_nul == 0 {
            return (Some(UTF_16LE), false);
        }
        if even_nul * 10 >= half * 9 && odd_nul == 0 {
            return (Some(UTF_16BE), false);
        }
    }
    (None, false)
}

fn looks_binary(head: &[u8]) -> bool {
    head.iter().take(8192).any(|b| *b == 0)
}

/// The most frequent of `,` `;` tab `|` outside quotes on the first line (comma on a tie).
fn detect_delimiter(first: &[u8]) -> u8 {
    let mut counts = [0usize; 4];
    let cands = [b',', b';', b'\t', b'|'];
    let mut in_quotes = false;
    for &b in first {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' if !in_quotes => break,
            _ if !in_quotes => {
                if let Some(i) = cands.iter().position(|c| *c == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let mut best = 0;
    for i in 1..4 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    cands[best]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    fn rows(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
        let f = write(bytes);
        let mut t = Table::open(f.path(), TableOptions::default()).unwrap();
        let mut out = vec![];
        while let Some(r) = t.next_row().unwrap() {
            out.push(r.fields.iter().map(str::to_string).collect::<Vec<String>>());
        }
        (t.header.names.clone(), out)
    }

    #[test]
    fn reads_bom_utf16_latin1_and_gzip() {
        let (h, r) = rows(b"\xEF\xBB\xBFName,City\nA,Z\xC3\xBCrich\n");
        assert_eq!(h, vec!["Name", "City"]);
        assert_eq!(r[0][1], "Zürich");
        let utf16: Vec<u8> = "\u{feff}Name;City\nA;Zürich\n".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let (h, r) = rows(&utf16);
        assert_eq!(h, vec!["Name", "City"]);
        assert_eq!(r[0][1], "Zürich");
        let (_, r) = rows(b"Name,City\nA,Z\xFCrich\n");
        assert_eq!(r[0][1], "Zürich");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"a|b\n1|2\n").unwrap();
        let (h, r) = rows(&gz.finish().unwrap());
        assert_eq!(h, vec!["a", "b"]);
        assert_eq!(r, vec![vec!["1", "2"]]);
    }

    #[test]
    fn multi_line_cells_keep_their_starting_line() {
        let f = write(b"a,b\n1,\"x\ny\"\n2,z\n");
        let mut t = Table::open(f.path(), TableOptions::default()).unwrap();
        assert_eq!(t.next_row().unwrap().unwrap().line, 2);
        assert_eq!(t.next_row().unwrap().unwrap().line, 4);
    }

    #[test]
    fn whole_file_problems_are_errors() {
        let f = write(b"");
        assert!(Table::open(f.path(), TableOptions::default()).err().unwrap().to_string().contains("empty"));
        let f = write(b"PK\x03\x04\x00\x00binary");
        assert!(Table::open(f.path(), TableOptions::default()).err().unwrap().to_string().contains("not a text file"));
        let f = write(b"a,b\n1,2,3\n");
        let mut t = Table::open(f.path(), TableOptions::default()).unwrap();
        let err = t.next_full_row().unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("ragged"), "{err}");
    }
}
