//! Reading CSV text: the delimiter (comma, semicolon or tab) is detected from the first line,
//! fields may be quoted with `"` (a doubled `""` inside quotes is one quote, and quoted fields may
//! span lines), and line ends may be `\n` or `\r\n`. Blank lines are skipped.

use crate::error::Error;

/// The rows of a CSV text as fields, each row with the line it starts on (from 1).
#[derive(Debug)]
pub struct Table {
    pub delimiter: char,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// The delimiter that splits the first line into the most fields, outside quotes.
fn detect_delimiter(text: &str) -> char {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let count = |d: char| {
        let mut quoted = false;
        first
            .chars()
            .filter(|&c| {
                if c == '"' {
                    quoted = !quoted;
                }
                !quoted && c == d
            })
            .count()
    };
    [',', ';', '\t']
        .into_iter()
        .max_by_key(|&d| (count(d), d == ','))
        .expect("three candidates")
}

pub fn parse(text: &str) -> Result<Table, Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let delimiter = detect_delimiter(text);
    let mut rows = Vec::new();
    let (mut row, mut field) = (Vec::new(), String::new());
    let (mut line, mut row_line) = (1, 1);
    let (mut quoted, mut was_quoted) = (false, false);
    let mut chars = text.chars().peekable();
    let end_row = |row: &mut Vec<String>,
                   field: &mut String,
                   rows: &mut Vec<(usize, Vec<String>)>,
                   at: usize,
                   was_quoted: bool| {
        row.push(std::mem::take(field));
        let fields = std::mem::take(row);
        if was_quoted || fields.len() > 1 || !fields[0].trim().is_empty() {
            rows.push((at, fields));
        }
    };
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, '\n') => {
                line += 1;
                field.push('\n');
            }
            (true, c) => field.push(c),
            (false, '"') if field.trim().is_empty() => {
                field.clear();
                quoted = true;
                was_quoted = true;
            }
            (false, '"') => {
                return Err(Error::InvalidData(format!(
                    "line {line}: a quote in the middle of an unquoted field; quote the whole field"
                )))
            }
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                end_row(&mut row, &mut field, &mut rows, row_line, was_quoted);
                was_quoted = false;
                line += 1;
                row_line = line;
            }
            (false, c) if c == delimiter => row.push(std::mem::take(&mut field)),
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(Error::InvalidData(format!(
            "line {row_line}: a quoted field is never closed"
        )));
    }
    end_row(&mut row, &mut field, &mut rows, row_line, was_quoted);
    Ok(Table { delimiter, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<Vec<String>> {
        parse(text).unwrap().rows.into_iter().map(|(_, r)| r).collect()
    }

    #[test]
    fn detects_the_delimiter_and_reads_quotes() {
        assert_eq!(fields("a,b\n1,2\n"), [["a", "b"], ["1", "2"]]);
        assert_eq!(parse("a;b\r\n1,5;2\r\n").unwrap().delimiter, ';');
        assert_eq!(fields("a;b\r\n1,5;2\r\n")[1], ["1,5", "2"]);
        assert_eq!(fields("x\ty\n3\t4"), [["x", "y"], ["3", "4"]]);
        assert_eq!(
            fields("\"a, b\",\"say \"\"hi\"\"\"\n1,2"),
            [["a, b", "say \"hi\""], ["1", "2"]]
        );
        assert_eq!(fields("\"two\nlines\",2\n\n3,4\n"), [["two\nlines", "2"], ["3", "4"]]);
    }

    #[test]
    fn rows_know_their_line_and_bad_quotes_are_reported() {
        let t = parse("h\n\n\"a\nb\"\nc\n").unwrap();
        assert_eq!(t.rows.iter().map(|(l, _)| *l).collect::<Vec<_>>(), [1, 3, 5]);
        assert!(parse("a,\"b\n1,2")
            .unwrap_err()
            .to_string()
            .contains("line 1: a quoted field is never closed"));
        assert!(parse("a,b\n1,x\"y\"").unwrap_err().to_string().contains("line 2"));
    }
}
