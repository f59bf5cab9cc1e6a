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
    /// The loss became NaN or infinite.
    Diverged { epoch: usize, step: usize, lr: f32 },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidSpec(m) | Error::InvalidConfig(m) | Error::InvalidData(m) => f.write_str(m),
            Error::Diverged { epoch, step, lr } => write!(
                f,
                "training diverged: the loss became NaN or infinite at step {step} (epoch {epoch}). \
                 Lower the learning rate (now {lr}), or use Adam, which is less sensitive to it."
            ),
        }
    }
}

impl std::error::Error for Error {}
