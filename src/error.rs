//! Errors a user can cause, each with a message that says what to change.

use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// A model spec that does not parse or whose shapes do not fit.
    InvalidSpec(String),
    /// A training setting out of range (batch size, learning rate, epochs).
    InvalidConfig(String),
    /// A data set or asset that cannot be used.
    InvalidData(String),
    /// No GPU adapter or device, or the device was lost.
    NoGpu(String),
    /// The loss became NaN or infinite, or exploded.
    Diverged { epoch: usize, step: usize, lr: f32 },
    /// A step ended from outside: another shard of the run failed, or the run was stopped.
    Interrupted(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidSpec(m)
            | Error::InvalidConfig(m)
            | Error::InvalidData(m)
            | Error::NoGpu(m)
            | Error::Interrupted(m) => f.write_str(m),
            Error::Diverged { epoch, step, lr } => write!(
                f,
                "training diverged: the loss exploded or became NaN at step {step} (epoch {epoch}). \
                 Lower the learning rate (now {}), or use Adam, which is less sensitive to it.",
                readable(*lr)
            ),
        }
    }
}

impl std::error::Error for Error {}

/// A JSON reading error in the user's words: what was found and what belongs there, without the
/// parser's type names (`usize`, `f32`, `struct`) or its positions in a one-line text.
pub fn plain(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = text.rfind(" at line ").map_or(text.as_str(), |at| &text[..at]);
    let said = plain_text(text);
    if e.line() > 1 {
        format!("{said} (line {}, column {})", e.line(), e.column())
    } else {
        said
    }
}

fn plain_text(text: &str) -> String {
    // `a`, `b` or `c` → a, b, c
    let names = |list: &str| {
        list.replace("one of ", "")
            .replace(" or ", ", ")
            .replace('`', "")
            .trim()
            .to_string()
    };
    if let Some(rest) = text.strip_prefix("unknown field `") {
        let (field, known) = rest
            .split_once("`, expected ")
            .unwrap_or((rest.trim_end_matches('`'), ""));
        let field = field.split('`').next().unwrap_or(field);
        return if known.is_empty() {
            format!("there is no setting '{field}' here (it takes none)")
        } else {
            format!("there is no setting '{field}' (the settings are {})", names(known))
        };
    }
    if let Some(rest) = text.strip_prefix("unknown variant `") {
        let (value, known) = rest.split_once("`, expected ").unwrap_or((rest, ""));
        return format!("'{value}' is not one of {}", names(known));
    }
    if let Some(rest) = text.strip_prefix("missing field `") {
        return format!("'{}' is missing", rest.trim_end_matches('`'));
    }
    let expected = |what: &str| match what.trim() {
        "usize" | "u8" | "u16" | "u32" | "u64" => "a whole number, 0 or more".to_string(),
        "isize" | "i8" | "i16" | "i32" | "i64" => "a whole number".to_string(),
        "f32" | "f64" => "a number".to_string(),
        "a boolean" => "true or false".to_string(),
        "a sequence" => "a list".to_string(),
        "a string" => "a text".to_string(),
        w if w.starts_with("struct ") || w == "a map" || w.starts_with("internally tagged") => "an object".to_string(),
        w => w.to_string(),
    };
    for prefix in ["invalid value: ", "invalid type: ", "invalid length "] {
        if let Some(rest) = text.strip_prefix(prefix) {
            let (found, what) = rest.split_once(", expected ").unwrap_or((rest, ""));
            // The kind word goes; the value itself (perhaps the person's own text) stays as it is.
            let found = ["integer ", "floating point ", "string ", "boolean "]
                .iter()
                .find_map(|kind| found.strip_prefix(kind))
                .unwrap_or(found);
            let found = match found {
                "sequence" => "a list".to_string(),
                "map" => "an object".to_string(),
                "unit value" => "null".to_string(),
                value => value
                    .strip_prefix('`')
                    .and_then(|v| v.strip_suffix('`'))
                    .unwrap_or(value)
                    .to_string(),
            };
            return format!("{found} does not fit here: it takes {}", expected(what));
        }
    }
    text.to_string()
}

/// `0.002` as it is, but `1e30` rather than thirty-one digits.
fn readable(v: f32) -> String {
    if v != 0.0 && !(1e-4..1e4).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::plain;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Layer {
        units: usize,
        rate: f32,
        #[serde(default)]
        on: bool,
    }

    fn read(json: &str) -> String {
        plain(&serde_json::from_str::<Layer>(json).unwrap_err())
    }

    #[test]
    fn json_errors_name_what_was_found_and_what_belongs_there() {
        assert_eq!(
            read(r#"{"units": -5, "rate": 1}"#),
            "-5 does not fit here: it takes a whole number, 0 or more"
        );
        assert_eq!(
            read(r#"{"units": 2.5, "rate": 1}"#),
            "2.5 does not fit here: it takes a whole number, 0 or more"
        );
        assert_eq!(
            read(r#"{"units": 2, "rate": "x"}"#),
            "\"x\" does not fit here: it takes a number"
        );
        assert_eq!(
            read(r#"{"units": 2, "rate": 1, "on": 1}"#),
            "1 does not fit here: it takes true or false"
        );
        assert_eq!(read(r#"{"units": 2}"#), "'rate' is missing");
        assert_eq!(
            read(r#"{"units": 2, "rate": 1, "unit": 3}"#),
            "there is no setting 'unit' (the settings are units, rate, on)"
        );
        assert_eq!(
            read("{\n\"units\": 2,\n\"rate\": true}"),
            "true does not fit here: it takes a number (line 3, column 12)"
        );
        assert!(!read(r#"{"units": [1]}"#).contains("sequence"));
        // A value of the person's own is quoted as it is.
        assert_eq!(
            read(r#"{"units": "bitmap", "rate": 1}"#),
            "\"bitmap\" does not fit here: it takes a whole number, 0 or more"
        );
    }

    #[test]
    fn numbers_in_messages_are_readable() {
        assert_eq!(super::readable(0.002), "0.002");
        assert_eq!(super::readable(1e30), "1e30");
        assert_eq!(super::readable(1e-6), "1e-6");
    }
}
