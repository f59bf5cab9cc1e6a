//! Sequence data for recurrent networks: a built-in set of noisy waveforms, and sequences read
//! from CSV, one sequence per row. A sample is `[steps, features]`.

use super::tabular::decimal_comma;
use super::{csv, Dataset};
use crate::error::Error;
use crate::rng::Rng;
use std::f32::consts::TAU;

pub const WAVE_CLASSES: [&str; 4] = ["sine", "square", "triangle", "sawtooth"];

/// `n` waveforms of `steps` values, classes interleaved: each has a random number of cycles
/// (1.5 to 4), phase, amplitude (0.6 to 1) and offset (±0.2), plus Gaussian noise of standard
/// deviation `noise` on every value. Telling them apart takes the shape of the curve over time,
/// not any single value.
pub fn waves(n: usize, steps: usize, noise: f32, seed: u64) -> Result<Dataset, Error> {
    if n < 2 || steps < 2 {
        return Err(Error::InvalidConfig(format!(
            "waveforms need at least 2 samples of at least 2 steps, got {n} of {steps}"
        )));
    }
    if !(noise.is_finite() && noise >= 0.0) {
        return Err(Error::InvalidConfig(format!(
            "noise must be a non-negative number, got {noise}"
        )));
    }
    let mut rng = Rng::new(seed);
    let mut features = Vec::with_capacity(n * steps);
    let labels: Vec<u32> = (0..n as u32).map(|i| i % WAVE_CLASSES.len() as u32).collect();
    for &label in &labels {
        let cycles = 1.5 + 2.5 * rng.uniform();
        let phase = rng.uniform();
        let amplitude = 0.6 + 0.4 * rng.uniform();
        let offset = 0.4 * rng.uniform() - 0.2;
        for s in 0..steps {
            let u = cycles * s as f32 / steps as f32 + phase;
            let p = u.fract();
            let wave = match label {
                0 => (TAU * u).sin(),
                1 => {
                    if p < 0.5 {
                        1.0
                    } else {
                        -1.0
                    }
                }
                2 => 4.0 * (p - 0.5).abs() - 1.0,
                _ => 2.0 * p - 1.0,
            };
            features.push(offset + amplitude * wave + noise * rng.normal());
        }
    }
    Dataset::new(
        vec![steps, 1],
        features,
        labels,
        WAVE_CLASSES.map(String::from).to_vec(),
    )
}

/// Sequences from CSV text, one per row: a label column (the one headed `label` or `class`, else
/// the first whose first value is not a number, else the first) and the sequence's values in the other columns, `features` values per step, step
/// after step. A first row whose values are not all numbers is a header. Classes are the distinct
/// labels, in numeric order when they are all numbers and alphabetical otherwise.
pub fn from_csv(text: &str, features: usize) -> Result<Dataset, Error> {
    let bad = |why: String| Error::InvalidData(why);
    if features == 0 {
        return Err(bad("each step needs at least one value".into()));
    }
    let table = csv::parse(text)?;
    let mut rows = table.rows.as_slice();
    let Some((_, first)) = rows.first() else {
        return Err(bad("the file has no rows".into()));
    };
    // With `;` or tabs between fields, a comma may be the decimal mark (`1,5`).
    let commas = table.delimiter != ',';
    let number = |f: &str| {
        let f = f.trim();
        f.parse::<f32>()
            .ok()
            .or_else(|| commas.then(|| decimal_comma(f).map(|v| v as f32)).flatten())
    };
    let numeric = |f: &String| number(f).is_some();
    // A header has a name where the next row has a number.
    let header = rows
        .get(1)
        .is_some_and(|(_, second)| first.iter().zip(second).any(|(a, b)| !numeric(a) && numeric(b)));
    let named = first
        .iter()
        .position(|h| header && ["label", "class"].contains(&h.trim().to_lowercase().as_str()));
    if header {
        rows = &rows[1..];
    }
    let label_column = named
        .or_else(|| rows.first().and_then(|(_, row)| row.iter().position(|f| !numeric(f))))
        .unwrap_or(0);
    let width = first.len();
    let values = width - 1;
    if values < 2 * features {
        return Err(bad(format!(
            "each row needs a label and at least two steps of {features} value(s), but rows have {width} columns"
        )));
    }
    if values % features != 0 {
        return Err(bad(format!(
            "{values} values per row do not split into steps of {features} values"
        )));
    }
    if rows.len() < 2 {
        return Err(bad("the file needs at least two sequences".into()));
    }
    let mut names: Vec<String> = Vec::new();
    let mut data = Vec::with_capacity(rows.len() * values);
    let mut raw_labels = Vec::with_capacity(rows.len());
    for (line, row) in rows {
        if row.len() != width {
            return Err(bad(format!(
                "line {line} has {} columns, but the first row has {width}; every sequence must have the same length",
                row.len()
            )));
        }
        for (column, field) in row.iter().enumerate() {
            if column == label_column {
                continue;
            }
            let value = field.trim();
            match number(value) {
                Some(v) if v.is_finite() => data.push(v),
                _ if value.is_empty() || ["na", "nan", "?", "null"].contains(&value.to_lowercase().as_str()) => {
                    return Err(bad(format!(
                        "line {line}, column {}: a missing value; sequences must be complete",
                        column + 1
                    )))
                }
                _ => {
                    return Err(bad(format!(
                        "line {line}, column {}: '{value}' is not a number",
                        column + 1
                    )))
                }
            }
        }
        let label = row[label_column].trim().to_string();
        if label.is_empty() {
            return Err(bad(format!("line {line} has no label")));
        }
        if !names.contains(&label) {
            names.push(label.clone());
        }
        raw_labels.push(label);
    }
    if names.len() < 2 {
        return Err(bad(format!(
            "every sequence has the label '{}'; a classifier needs at least two classes",
            names[0]
        )));
    }
    let as_numbers: Option<Vec<f64>> = names.iter().map(|n| n.parse::<f64>().ok()).collect();
    match as_numbers {
        Some(numbers) => {
            let mut order: Vec<usize> = (0..names.len()).collect();
            order.sort_by(|&a, &b| numbers[a].total_cmp(&numbers[b]));
            names = order.into_iter().map(|i| names[i].clone()).collect();
        }
        None => names.sort(),
    }
    let labels = raw_labels
        .iter()
        .map(|l| names.iter().position(|n| n == l).expect("every label is named") as u32)
        .collect();
    Dataset::new(vec![values / features, features], data, labels, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waves_are_balanced_shaped_and_seeded() {
        let d = waves(40, 30, 0.0, 3).unwrap();
        assert_eq!(d.sample_shape, [30, 1]);
        assert_eq!(d.labels[..5], [0, 1, 2, 3, 0]);
        // Without noise a square wave only takes two values, offset ± amplitude.
        let square = &d.features[30..60];
        let (lo, hi) = square
            .iter()
            .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        assert!(square.iter().all(|&v| (v - lo).abs() < 1e-6 || (v - hi).abs() < 1e-6));
        assert!(hi - lo >= 1.2 - 1e-6);
        assert_eq!(waves(40, 30, 0.3, 3).unwrap(), waves(40, 30, 0.3, 3).unwrap());
        assert!(waves(1, 30, 0.3, 3).is_err() && waves(4, 30, -1.0, 3).is_err());
    }

    #[test]
    fn csv_rows_become_sequences() {
        let d = from_csv("id,t0,t1,t2,t3,label\n1,0,1,2,3,up\n2,3,2,1,0,down\n3,0,0,1,1,up\n", 2).unwrap_err();
        assert!(
            d.to_string().contains("5 values per row do not split into steps of 2"),
            "{d}"
        );
        let d = from_csv("t0,t1,t2,t3,label\n0,1,2,3,up\n3,2,1,0,down\n0,0,1,1,up\n", 2).unwrap();
        assert_eq!(d.sample_shape, [2, 2]);
        assert_eq!(d.classes, ["down", "up"]);
        assert_eq!(d.labels, [1, 0, 1]);
        assert_eq!(d.features[4..8], [3.0, 2.0, 1.0, 0.0]);
        // No header: the first column is the label; numeric labels sort as numbers.
        let d = from_csv("10,0.5,1\n9,1,2\n10,2,3\n", 1).unwrap();
        assert_eq!(
            (d.classes.clone(), d.labels.clone()),
            (vec!["9".to_string(), "10".to_string()], vec![1, 0, 1])
        );
        assert_eq!(d.sample_shape, [2, 1]);
        // No header, labels last.
        let d = from_csv("0.5,1,a\n1,2,b\n", 1).unwrap();
        assert_eq!(
            (d.labels.clone(), d.features.clone()),
            (vec![0, 1], vec![0.5, 1.0, 1.0, 2.0])
        );
        // A header without a label column's name: the column of words is the label.
        let d = from_csv("t0,t1,direction\n0.5,1,a\n1,2,b\n", 1).unwrap();
        assert_eq!(d.classes, ["a", "b"]);
    }

    #[test]
    fn bad_sequence_files_say_where() {
        let err = |text: &str| from_csv(text, 1).unwrap_err().to_string();
        assert!(err("a,1,2,3\nb,1,2\n").contains("line 2 has 3 columns, but the first row has 4"));
        assert!(err("a,1,2,3\nb,1,x,3\n").contains("line 2, column 3: 'x' is not a number"));
        assert!(err("a,1,2,3\nb,1,\"2,5\",3\n").contains("'2,5' is not a number"));
        let commas = from_csv("a;1,5;2;3\nb;0,5;-1,25;1.000,5\n", 1).unwrap();
        assert_eq!(commas.features, [1.5, 2.0, 3.0, 0.5, -1.25, 1000.5]);
        assert!(err("a,1,2,3\nb,1,NA,3\n").contains("line 2, column 3: a missing value"));
        assert!(err("a,1,2,3\na,1,2,3\n").contains("at least two classes"));
        assert!(err("").contains("no rows"));
        assert!(err("a,1\nb,2\n").contains("at least two steps"));
        assert!(err("label,t0,t1\na,1,2\n").contains("at least two sequences"));
        assert!(from_csv("a,1,2\nb,1,2\n", 0).is_err());
    }
}
