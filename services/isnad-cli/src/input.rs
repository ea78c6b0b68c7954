//! Reading many values (serials, scans) from a file: plain lines, a CSV column, or JSON lines.
//!
//! - `.csv`: a header row, then the column named by `--column`;
//! - `.jsonl`, `.ndjson`, `.json`: one JSON value per line, a string or an object with the
//!   field named by `--column`;
//! - anything else, and `-` for stdin: one value per line; blank lines and lines starting with
//!   `#` are skipped.
//!
//! Every value keeps its line number, so an error names the line at fault.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{Context, bail};

/// Values read from one file at most: ten lots of the largest commission, or a hundred full
/// shipments.
pub const VALUES_MAX: usize = 1_000_000;

/// Bytes read from one file at most: a million values of up to 64 characters with some
/// columns beside them.
pub const INPUT_LEN_MAX: u64 = 256 * 1024 * 1024;

/// A value and the line it came from (from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// The line number, from 1 (the header of a CSV file is line 1).
    pub line: usize,
    /// The value, trimmed.
    pub text: String,
}

/// Reads the values of `path` (or stdin for `-`), taking the `column` of CSV and JSON lines.
pub fn read_values(path: &Path, column: &str) -> anyhow::Result<Vec<Value>> {
    let shown = path.display().to_string();
    let reader: Box<dyn Read> = if path == Path::new("-") {
        Box::new(std::io::stdin())
    } else {
        Box::new(File::open(path).with_context(|| format!("cannot open {shown}"))?)
    };
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    let values = parse_values(reader.take(INPUT_LEN_MAX), extension, column)
        .with_context(|| format!("reading {shown}"))?;
    if values.is_empty() {
        bail!("{shown} holds no values");
    }
    Ok(values)
}

/// Reads the values of `reader` in the format a file `extension` names (see the module
/// documentation), taking the `column` of CSV and JSON lines. The caller bounds the reader.
pub fn parse_values(
    reader: impl Read,
    extension: &str,
    column: &str,
) -> anyhow::Result<Vec<Value>> {
    let reader = BufReader::new(reader);
    match extension.to_ascii_lowercase().as_str() {
        "csv" => csv_values(reader, column),
        "jsonl" | "ndjson" | "json" => json_values(reader, column),
        _ => line_values(reader),
    }
}

fn push(values: &mut Vec<Value>, line: usize, text: &str) -> anyhow::Result<()> {
    if values.len() == VALUES_MAX {
        bail!("more than {VALUES_MAX} values; split the file");
    }
    values.push(Value {
        line,
        text: text.trim().to_owned(),
    });
    Ok(())
}

fn line_values(reader: impl BufRead) -> anyhow::Result<Vec<Value>> {
    let mut values = Vec::new();
    for (number, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("line {}", number + 1))?;
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        push(&mut values, number + 1, text)?;
    }
    Ok(values)
}

fn csv_values(reader: impl Read, column: &str) -> anyhow::Result<Vec<Value>> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers = csv.headers().context("the header row")?.clone();
    let Some(position) = headers
        .iter()
        .position(|header| header.trim().eq_ignore_ascii_case(column))
    else {
        let found: Vec<&str> = headers.iter().collect();
        bail!(
            "no column {column:?} in the header row (columns: {})",
            found.join(", ")
        );
    };
    let mut values = Vec::new();
    for record in csv.records() {
        let record = record?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        match record.get(position) {
            Some(text) if !text.trim().is_empty() => push(&mut values, line, text)?,
            _ => bail!("line {line}: no value in column {column:?}"),
        }
    }
    Ok(values)
}

fn json_values(reader: impl BufRead, field: &str) -> anyhow::Result<Vec<Value>> {
    let mut values = Vec::new();
    for (number, line) in reader.lines().enumerate() {
        let number = number + 1;
        let line = line.with_context(|| format!("line {number}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("line {number}: not JSON"))?;
        let text = match &value {
            serde_json::Value::String(text) => text.as_str(),
            serde_json::Value::Object(object) => match object.get(field) {
                Some(serde_json::Value::String(text)) => text.as_str(),
                _ => bail!("line {number}: no string field {field:?}"),
            },
            _ => bail!("line {number}: expected a string or an object"),
        };
        push(&mut values, number, text)?;
    }
    Ok(values)
}

/// Fails on the first value that appears twice, naming both lines.
pub fn refuse_duplicates(values: &[Value], what: &str) -> anyhow::Result<()> {
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(values.len());
    for value in values {
        if let Some(first) = seen.insert(value.text.as_str(), value.line) {
            bail!(
                "{what} {:?} appears twice, on lines {first} and {}",
                value.text,
                value.line
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn texts(values: &[Value]) -> Vec<(usize, &str)> {
        values.iter().map(|v| (v.line, v.text.as_str())).collect()
    }

    #[track_caller]
    fn check(name: &str, content: &str, expected: Result<Vec<(usize, &str)>, &str>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(name);
        File::create(&path)
            .and_then(|mut file| file.write_all(content.as_bytes()))
            .expect("written");
        match (read_values(&path, "serial"), expected) {
            (Ok(values), Ok(expected)) => assert_eq!(texts(&values), expected, "{name}"),
            (Err(error), Err(expected)) => {
                let shown = format!("{error:#}");
                assert!(shown.contains(expected), "{name}: {shown}");
            }
            (outcome, expected) => panic!("{name}: expected {expected:?}, got {outcome:?}"),
        }
    }

    #[test]
    fn the_three_forms_read_with_line_numbers() {
        check(
            "a.txt",
            "S1\n\n# comment\n S2 \n",
            Ok(vec![(1, "S1"), (4, "S2")]),
        );
        check(
            "a.csv",
            "gtin,serial\n06111234000019,S1\n06111234000019,S2\n",
            Ok(vec![(2, "S1"), (3, "S2")]),
        );
        check("a.CSV", "Serial\nS1\n", Ok(vec![(2, "S1")]));
        check(
            "a.jsonl",
            "\"S1\"\n{\"serial\":\"S2\",\"note\":1}\n",
            Ok(vec![(1, "S1"), (2, "S2")]),
        );
    }

    #[test]
    fn bad_files_name_the_line() {
        check("b.csv", "gtin,lot\n1,2\n", Err("no column \"serial\""));
        check(
            "b2.csv",
            "gtin,serial\n1,\n",
            Err("line 2: no value in column"),
        );
        check(
            "b.jsonl",
            "\"S1\"\n{\"lot\":\"L\"}\n",
            Err("line 2: no string field"),
        );
        check("b2.jsonl", "S1\n", Err("line 1: not JSON"));
        check(
            "b3.jsonl",
            "[1]\n",
            Err("line 1: expected a string or an object"),
        );
        check("empty.txt", "\n# nothing\n", Err("holds no values"));
    }

    #[test]
    fn duplicates_name_both_lines() {
        let values = vec![
            Value {
                line: 1,
                text: "S1".into(),
            },
            Value {
                line: 2,
                text: "S2".into(),
            },
            Value {
                line: 5,
                text: "S1".into(),
            },
        ];
        let error = refuse_duplicates(&values, "serial").expect_err("refused");
        assert_eq!(
            error.to_string(),
            "serial \"S1\" appears twice, on lines 1 and 5"
        );
        assert!(refuse_duplicates(&values[..2], "serial").is_ok());
    }
}
