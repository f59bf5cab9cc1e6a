//! Tables from CSV: one sample per row, a label column, and feature columns that are numeric or
//! categorical. Missing values (an empty field, `NA`, `N/A`, `NaN`, `?`, `null`, `None`) are kept as
//! NaN for the quality report and the feature transform to deal with.

use super::{csv, Column, Dataset};
use crate::error::Error;

/// The most classes a label column may have: beyond this it is a number to predict, not a class.
pub const MAX_CLASSES: usize = 100;

/// A table read from CSV, with what was left out of it and why.
#[derive(Debug)]
pub struct Loaded {
    pub data: Dataset,
    /// One line per column left out (every value missing), naming it.
    pub notes: Vec<String>,
}

pub fn is_missing(field: &str) -> bool {
    matches!(
        field.trim().to_lowercase().as_str(),
        "" | "na" | "n/a" | "nan" | "?" | "null" | "none"
    )
}

fn number(field: &str) -> Option<f64> {
    field.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A number written with a decimal comma (`1,5`, `-0,25`, `1.234,5` with dots between thousands),
/// as tables saved where the comma is the decimal mark have them (with `;` or tabs between fields).
pub(super) fn decimal_comma(field: &str) -> Option<f64> {
    let field = field.trim();
    let (whole, fraction) = field.split_once(',')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = whole.strip_prefix(['-', '+']).unwrap_or(whole);
    let mut groups = unsigned.split('.');
    let first = groups.next()?;
    let thousands = unsigned.contains('.');
    let grouped = groups.all(|g| g.len() == 3 && digits(g));
    if !(digits(first) && (!thousands || first.len() <= 3) && grouped && digits(fraction)) {
        return None;
    }
    number(&format!("{}.{fraction}", whole.replace('.', "")))
}

/// Distinct values in numeric order when all are numbers, else alphabetical.
fn categories<'a>(values: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut distinct: Vec<String> = values.map(|v| v.trim().to_string()).collect();
    distinct.sort();
    distinct.dedup();
    if distinct.iter().all(|v| number(v).is_some()) {
        distinct.sort_by(|a, b| number(a).unwrap_or(0.0).total_cmp(&number(b).unwrap_or(0.0)));
    }
    distinct
}

/// Reads a table. The first row is a header when a column has a name there and a number below it,
/// or when none of its fields is a number (else columns are named `column 1`, …). The label column
/// is `label` when given, else the one headed `label`, `class`, `target` or `y`, else the last one.
pub fn from_csv(text: &str, label: Option<&str>) -> Result<Loaded, Error> {
    let bad = |why: String| Error::InvalidData(why);
    let table = csv::parse(text)?;
    // With `;` or tabs between fields, a comma may be the decimal mark.
    let commas = table.delimiter != ',';
    let mut rows = table.rows.as_slice();
    let Some((_, first)) = rows.first() else {
        return Err(bad("the file has no rows".into()));
    };
    let numeric = |f: &String| number(f).is_some();
    let header = rows.get(1).is_some_and(|(_, second)| {
        first
            .iter()
            .zip(second)
            .any(|(a, b)| !numeric(a) && !is_missing(a) && numeric(b))
    }) || !first.iter().any(numeric);
    let names: Vec<String> = if header {
        rows = &rows[1..];
        first
            .iter()
            .enumerate()
            .map(|(i, h)| {
                if h.trim().is_empty() {
                    format!("column {}", i + 1)
                } else {
                    h.trim().to_string()
                }
            })
            .collect()
    } else {
        (1..=first.len()).map(|i| format!("column {i}")).collect()
    };
    let width = names.len();
    if width < 2 {
        return Err(bad(format!(
            "a table needs a label column and at least one feature column, but the rows have {width} column"
        )));
    }
    if let Some((line, row)) = rows.iter().find(|(_, r)| r.len() != width) {
        return Err(bad(format!(
            "line {line} has {} fields where the header has {width}",
            row.len()
        )));
    }
    if rows.len() < 2 {
        return Err(bad("the table needs at least two rows of data".into()));
    }
    let label_column = match label {
        Some(name) => names.iter().position(|n| n == name).ok_or_else(|| {
            bad(format!(
                "there is no column '{name}'; the columns are {}",
                names.join(", ")
            ))
        })?,
        None => names
            .iter()
            .position(|n| ["label", "class", "target", "y"].contains(&n.to_lowercase().as_str()))
            .unwrap_or(width - 1),
    };
    if let Some((line, _)) = rows.iter().find(|(_, r)| is_missing(&r[label_column])) {
        return Err(bad(format!(
            "line {line} has no value in the label column '{}'",
            names[label_column]
        )));
    }
    let classes = categories(rows.iter().map(|(_, r)| r[label_column].as_str()));
    if classes.len() < 2 {
        return Err(bad(format!(
            "the label column '{}' has one class only ('{}'): a classifier needs at least two",
            names[label_column], classes[0]
        )));
    }
    if classes.len() > MAX_CLASSES {
        return Err(bad(format!(
            "the label column '{}' has {} distinct values: Whetstone classifies, so a label needs at most {MAX_CLASSES} classes (is it the right column?)",
            names[label_column],
            classes.len()
        )));
    }
    let labels: Vec<u32> = rows
        .iter()
        .map(|(_, r)| {
            classes
                .iter()
                .position(|c| c == r[label_column].trim())
                .expect("a class") as u32
        })
        .collect();
    let mut notes = Vec::new();
    let mut columns = Vec::new();
    let mut values: Vec<Vec<f32>> = Vec::new();
    for c in (0..width).filter(|&c| c != label_column) {
        let present: Vec<&str> = rows
            .iter()
            .map(|(_, r)| r[c].as_str())
            .filter(|f| !is_missing(f))
            .collect();
        if present.is_empty() {
            notes.push(format!(
                "column '{}' was left out: every value in it is missing",
                names[c]
            ));
            continue;
        }
        let numeric = present.iter().all(|f| number(f).is_some());
        let with_commas = !numeric
            && commas
            && present
                .iter()
                .all(|f| number(f).is_some() || decimal_comma(f).is_some());
        if with_commas {
            notes.push(format!(
                "column '{}' has decimal commas (like '{}'): read as numbers",
                names[c],
                present
                    .iter()
                    .find(|f| number(f).is_none())
                    .expect("a field with a comma")
                    .trim()
            ));
        }
        let column = if numeric || with_commas {
            Column {
                name: names[c].clone(),
                categories: Vec::new(),
            }
        } else {
            Column {
                name: names[c].clone(),
                categories: categories(present.into_iter()),
            }
        };
        values.push(
            rows.iter()
                .map(|(_, r)| match (is_missing(&r[c]), column.is_categorical()) {
                    (true, _) => f32::NAN,
                    (false, true) => column
                        .categories
                        .iter()
                        .position(|k| k == r[c].trim())
                        .expect("a category") as f32,
                    (false, false) => number(&r[c]).or_else(|| decimal_comma(&r[c])).expect("checked") as f32,
                })
                .collect(),
        );
        columns.push(column);
    }
    if columns.is_empty() {
        return Err(bad("no feature column has any value".into()));
    }
    let features = (0..rows.len()).flat_map(|r| values.iter().map(move |v| v[r])).collect();
    let data = Dataset {
        sample_shape: vec![columns.len()],
        features,
        labels,
        classes,
        columns,
    };
    Ok(Loaded { data, notes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_numeric_and_categorical_columns_with_missing_values() {
        let text = "size;colour;weight;kind\n1,5;red;10;cat\n2;blue;NA;dog\n;red;12;cat\n4;green;?;dog\n";
        // The delimiter is ';' here, so "1,5" is one and a half, and it is said.
        let l = from_csv(text, None).unwrap();
        assert!(!l.data.columns[0].is_categorical());
        assert_eq!(l.data.features[0], 1.5);
        assert_eq!(
            l.notes,
            ["column 'size' has decimal commas (like '1,5'): read as numbers"]
        );
        let text = "size,colour,weight,kind\n1.5,red,10,cat\n2,blue,NA,dog\n,red,12,cat\n4,green,?,dog\n";
        let l = from_csv(text, None).unwrap();
        let d = &l.data;
        assert_eq!(d.classes, ["cat", "dog"]);
        assert_eq!(d.labels, [0, 1, 0, 1]);
        assert_eq!(d.sample_shape, [3]);
        assert_eq!(
            d.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["size", "colour", "weight"]
        );
        assert!(!d.columns[0].is_categorical() && !d.columns[2].is_categorical());
        assert_eq!(d.columns[1].categories, ["blue", "green", "red"]);
        let row = |i: usize| d.features[i * 3..i * 3 + 3].to_vec();
        assert_eq!(row(0), [1.5, 2.0, 10.0]);
        assert!(row(1)[2].is_nan() && row(2)[0].is_nan());
        assert!(d.has_missing());
        assert!(l.notes.is_empty());
    }

    #[test]
    fn decimal_commas_are_numbers_only_where_commas_do_not_separate_fields() {
        let text = "a\tb\tlabel\n-1.234,5\t1,5x\tx\n0,25\t2\ty\n+3\t1,5\tx\n";
        let l = from_csv(text, None).unwrap();
        assert_eq!(
            l.data.features.iter().step_by(2).copied().collect::<Vec<_>>(),
            [-1234.5, 0.25, 3.0]
        );
        // "1,5x" is no number: that column stays categorical.
        assert_eq!(l.data.columns[1].categories, ["1,5", "1,5x", "2"]);
        assert_eq!(l.notes.len(), 1);
        for not_a_number in ["1,", ",5", "1.23,4", "1,2,3", "a,5", "1.2345,6", "1234.567,5"] {
            assert_eq!(decimal_comma(not_a_number), None, "{not_a_number}");
        }
        // Quoted in a comma-separated table, "1,5" is a category, as the file may mean 15.
        let quoted = from_csv("a,label\n\"1,5\",x\n2,y\n", None).unwrap();
        assert_eq!(quoted.data.columns[0].categories, ["1,5", "2"]);
    }

    #[test]
    fn the_label_column_is_chosen_by_name_or_refused() {
        let text = "class,a,b\nx,1,2\ny,3,4\n";
        assert_eq!(from_csv(text, None).unwrap().data.classes, ["x", "y"]);
        let by_name = from_csv(text, Some("b")).unwrap().data;
        assert_eq!(
            (by_name.classes.clone(), by_name.columns[0].categories.clone()),
            (vec!["2".to_string(), "4".into()], vec!["x".to_string(), "y".into()])
        );
        let e = from_csv(text, Some("colour")).unwrap_err().to_string();
        assert!(
            e.contains("there is no column 'colour'") && e.contains("class, a, b"),
            "{e}"
        );
    }

    #[test]
    fn bad_tables_are_refused_with_the_reason() {
        let e = |t: &str| from_csv(t, None).unwrap_err().to_string();
        assert!(e("a,b,label\n1,2,x\n3,y\n").contains("line 3 has 2 fields where the header has 3"));
        assert!(e("a,label\n1,x\n2,x\n").contains("one class only ('x')"));
        assert!(e("a,label\n1,x\n2,\n").contains("line 3 has no value in the label column 'label'"));
        assert!(e("").contains("no rows"));
        let many: String = std::iter::once("a,label\n".to_string())
            .chain((0..150).map(|i| format!("{i},{i}\n")))
            .collect();
        assert!(e(&many).contains("150 distinct values"));
    }

    #[test]
    fn a_column_with_no_values_is_left_out_with_a_note() {
        let l = from_csv("a,empty,label\n1,,x\n2,NA,y\n", None).unwrap();
        assert_eq!(l.data.columns.len(), 1);
        assert_eq!(l.notes, ["column 'empty' was left out: every value in it is missing"]);
    }

    #[test]
    fn without_a_header_columns_are_numbered() {
        let d = from_csv("1,2,0\n3,4,1\n", None).unwrap().data;
        assert_eq!(d.columns[1].name, "column 2");
        assert_eq!(d.classes, ["0", "1"]);
        assert_eq!(d.features, [1.0, 2.0, 3.0, 4.0]);
    }
}
