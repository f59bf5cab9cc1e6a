//! What the integration tests share: the helpers of [`whetstone::testing`], written once for
//! every test target.

#[allow(unused_imports)]
pub use whetstone::testing::{assert_close, digits, random, words_tsv};
