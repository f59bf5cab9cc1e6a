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
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidSpec(m) | Error::InvalidConfig(m) | Error::InvalidData(m) | Error::NoGpu(m) => f.write_str(m),
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
    #[test]
    fn numbers_in_messages_are_readable() {
        assert_eq!(super::readable(0.002), "0.002");
        assert_eq!(super::readable(1e30), "1e30");
        assert_eq!(super::readable(1e-6), "1e-6");
    }
}
