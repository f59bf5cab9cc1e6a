//! A trained model as one `.safetensors` file: every parameter tensor as little-endian F32 under its
//! layer's name (`layers.3.weight`, `layers.3.bias`), and in the header's metadata the model spec
//! (JSON), the class names (JSON), the format version and, when given, the fitted feature transform
//! (JSON), the vocabulary a text model reads its texts by (JSON) and the training history (CSV).
//! Other tools (Python's `safetensors`, PyTorch, NumPy) open the weights as they are.

use crate::data::text::Vocabulary;
use crate::error::{plain, Error};
use crate::features::Fitted;
use crate::nn::ModelSpec;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;

/// The `format` metadata entry of the files this version writes and reads.
pub const FORMAT: &str = "whetstone-model/1";

#[derive(Clone, Debug, PartialEq)]
pub struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ModelFile {
    pub spec: ModelSpec,
    pub classes: Vec<String>,
    /// In the model's parameter order.
    pub tensors: Vec<NamedTensor>,
    /// The feature transform fitted on the training data, which predictions go through first.
    pub features: Option<Fitted>,
    /// A text model's vocabulary: how a text becomes the token ids the model reads.
    pub vocabulary: Option<Vocabulary>,
    pub history: Option<String>,
}

fn corrupt(why: impl std::fmt::Display) -> Error {
    Error::InvalidData(format!("this is not a readable Whetstone model file: {why}"))
}

/// What is wrong with a safetensors file, in the user's words.
fn unreadable(e: safetensors::SafeTensorError) -> Error {
    use safetensors::SafeTensorError::*;
    corrupt(match e {
        InvalidHeaderDeserialization(e) | JsonError(e) => format!("its header does not read: {}", plain(&e)),
        HeaderTooSmall | InvalidHeaderLength | HeaderTooLarge | InvalidHeader(_) => {
            "it does not start with a safetensors header (damaged, or another kind of file)".into()
        }
        MetadataIncompleteBuffer
        | InvalidOffset(_)
        | TensorInvalidInfo
        | InvalidTensorView(..)
        | ValidationOverflow => "its weights are cut short or do not match the sizes its header gives".into(),
        other => other.to_string(),
    })
}

impl ModelFile {
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let bytes: Vec<Vec<u8>> = self
            .tensors
            .iter()
            .map(|t| t.values.iter().flat_map(|v| v.to_le_bytes()).collect())
            .collect();
        let views = self
            .tensors
            .iter()
            .zip(&bytes)
            .map(|(t, b)| TensorView::new(Dtype::F32, t.shape.clone(), b).map(|v| (t.name.clone(), v)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::InvalidData(format!("a weight tensor does not match its shape: {e}")))?;
        let mut metadata = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            (
                "spec".to_string(),
                serde_json::to_string(&self.spec).expect("a spec serialises"),
            ),
            (
                "classes".to_string(),
                serde_json::to_string(&self.classes).expect("strings serialise"),
            ),
        ]);
        if let Some(h) = &self.history {
            metadata.insert("history".to_string(), h.clone());
        }
        if let Some(f) = &self.features {
            metadata.insert(
                "features".to_string(),
                serde_json::to_string(f).expect("a fitted transform serialises"),
            );
        }
        if let Some(v) = &self.vocabulary {
            metadata.insert(
                "vocabulary".to_string(),
                serde_json::to_string(v).expect("a vocabulary serialises"),
            );
        }
        safetensors::serialize(views, Some(metadata))
            .map_err(|e| Error::InvalidData(format!("the model could not be written: {e}")))
    }

    /// Reads a file written by [`ModelFile::to_bytes`]; tensors come back in the spec's parameter
    /// order, which the layer names give.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(unreadable)?;
        let meta = header.metadata().clone().unwrap_or_default();
        match meta.get("format").map(String::as_str) {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(Error::InvalidData(format!(
                    "this model file is in format '{other}', which this version of Whetstone cannot read (it reads '{FORMAT}')"
                )))
            }
            None => return Err(corrupt("its header names no Whetstone format (a safetensors file from another tool?)")),
        }
        let field = |key: &str| {
            meta.get(key)
                .ok_or_else(|| corrupt(format!("its header has no '{key}'")))
        };
        let spec = ModelSpec::from_json(field("spec")?)?;
        let classes: Vec<String> =
            serde_json::from_str(field("classes")?).map_err(|e| corrupt(format!("its classes: {}", plain(&e))))?;
        let features: Option<Fitted> = meta
            .get("features")
            .map(|f| serde_json::from_str(f))
            .transpose()
            .map_err(|e| corrupt(format!("its feature transform: {}", plain(&e))))?;
        if let Some(f) = features.as_ref().filter(|f| f.output_shape() != spec.input) {
            return Err(corrupt(format!(
                "its feature transform gives samples of shape {:?}, but its model takes {:?}",
                f.output_shape(),
                spec.input
            )));
        }
        let vocabulary: Option<Vocabulary> = meta
            .get("vocabulary")
            .map(|v| serde_json::from_str(v))
            .transpose()
            .map_err(|e| corrupt(format!("its vocabulary: {}", plain(&e))))?;
        if let Some(v) = &vocabulary {
            if spec.vocabulary() != Some(v.size()) || spec.input != [v.max_len] {
                return Err(corrupt(format!(
                    "its vocabulary gives {} tokens of {} ids, but its model reads {:?} of {}",
                    v.max_len,
                    v.size(),
                    spec.input,
                    spec.vocabulary().map_or("no token ids".into(), |n| n.to_string())
                )));
            }
        }
        let file = SafeTensors::deserialize(bytes).map_err(unreadable)?;
        let mut tensors = Vec::new();
        for (name, shape) in spec.param_shapes()? {
            let view = file
                .tensor(&name)
                .map_err(|_| corrupt(format!("it has no tensor '{name}', which its spec needs")))?;
            if view.dtype() != Dtype::F32 || view.shape() != shape.as_slice() {
                return Err(corrupt(format!(
                    "tensor '{name}' is {:?} {:?}, but the spec needs F32 {shape:?}",
                    view.dtype(),
                    view.shape()
                )));
            }
            let values = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            tensors.push(NamedTensor { name, shape, values });
        }
        if file.len() != tensors.len() {
            return Err(corrupt(format!(
                "it has {} tensors where its spec has {}",
                file.len(),
                tensors.len()
            )));
        }
        Ok(Self {
            spec,
            classes,
            tensors,
            features,
            vocabulary,
            history: meta.get("history").cloned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::preset;

    fn sample() -> ModelFile {
        let spec = preset("toy", &[2], 3).unwrap();
        let tensors = spec
            .param_shapes()
            .unwrap()
            .into_iter()
            .enumerate()
            .map(|(i, (name, shape))| {
                let values = (0..shape.iter().product::<usize>())
                    .map(|j| (i * 1000 + j) as f32 * 0.25 - 3.0)
                    .collect();
                NamedTensor { name, shape, values }
            })
            .collect();
        ModelFile {
            spec,
            classes: vec!["a".into(), "b".into(), "c".into()],
            tensors,
            features: None,
            vocabulary: None,
            history: Some("epoch,val_loss\n1,0.5\n".into()),
        }
    }

    #[test]
    fn a_text_model_keeps_its_vocabulary_and_a_vocabulary_that_does_not_fit_is_refused() {
        use crate::data::text::{Level, Vocabulary};
        let vocabulary = Vocabulary::fit(["abc", "abd"], Level::Characters, 10, 6);
        let spec = crate::nn::text_preset("bag", 6, vocabulary.size(), 3).unwrap();
        let tensors = crate::testing::constant_weights(&spec);
        let file = ModelFile {
            spec,
            vocabulary: Some(vocabulary.clone()),
            tensors,
            ..sample()
        };
        let back = ModelFile::from_bytes(&file.to_bytes().unwrap()).unwrap();
        assert_eq!(back.vocabulary.as_ref(), Some(&vocabulary));
        assert_eq!(back, file);
        let longer = ModelFile {
            vocabulary: Some(Vocabulary {
                max_len: 7,
                ..vocabulary
            }),
            ..file
        };
        let err = ModelFile::from_bytes(&longer.to_bytes().unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("its vocabulary gives 7 tokens of 6 ids, but its model reads [6] of 6"),
            "{err}"
        );
    }

    #[test]
    fn a_model_round_trips_exactly() {
        let m = sample();
        assert_eq!(
            m.tensors.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            [
                "layers.0.weight",
                "layers.0.bias",
                "layers.2.weight",
                "layers.2.bias",
                "layers.4.weight",
                "layers.4.bias"
            ]
        );
        assert_eq!(ModelFile::from_bytes(&m.to_bytes().unwrap()).unwrap(), m);
    }

    #[test]
    fn the_fitted_feature_transform_round_trips_and_must_fit_the_model() {
        let table = crate::data::tabular::from_csv("a,b,label\n1,x,p\n,y,q\n3,x,p\n", None)
            .unwrap()
            .data;
        let spec = crate::features::FeatureSpec {
            scale: crate::features::Scale::Standardize,
            ..Default::default()
        };
        let features = Fitted::fit(&spec, &table).unwrap();
        assert_eq!(features.output_shape(), [2]);
        let mut m = sample();
        m.features = Some(features);
        assert_eq!(ModelFile::from_bytes(&m.to_bytes().unwrap()).unwrap(), m);
        m.spec.input = vec![3];
        assert!(ModelFile::from_bytes(&m.to_bytes().unwrap())
            .unwrap_err()
            .to_string()
            .contains("gives samples of shape [2], but its model takes [3]"));
    }

    #[test]
    fn the_file_is_plain_safetensors() {
        let bytes = sample().to_bytes().unwrap();
        let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
        assert_eq!(header["layers.2.weight"]["dtype"], "F32");
        assert_eq!(header["layers.2.weight"]["shape"], serde_json::json!([16, 16]));
        assert_eq!(header["__metadata__"]["format"], FORMAT);
    }

    #[test]
    fn damaged_or_foreign_files_are_refused_with_a_reason() {
        let bytes = sample().to_bytes().unwrap();
        let message = |b: &[u8]| ModelFile::from_bytes(b).unwrap_err().to_string();
        assert_eq!(
            message(&bytes[..bytes.len() - 10]),
            "this is not a readable Whetstone model file: its weights are cut short or do not match the sizes its header gives"
        );
        assert!(message(b"hello").contains("it does not start with a safetensors header"));
        // A tensor's size written as -5 in the header: named as a value, not as a Rust type.
        let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header = std::str::from_utf8(&bytes[8..8 + header_len]).unwrap();
        let shape_at = header.find("\"shape\":[").unwrap() + "\"shape\":[".len();
        let negative = format!("{}-5{}", &header[..shape_at], &header[shape_at + 1..]);
        let mut damaged = (negative.len() as u64).to_le_bytes().to_vec();
        damaged.extend(negative.as_bytes());
        damaged.extend(&bytes[8 + header_len..]);
        let e = message(&damaged);
        assert!(
            e.contains("its header does not read: -5") && e.contains("does not fit here: it takes a whole number"),
            "{e}"
        );
        assert!(!e.contains("usize"), "{e}");
        let mut other = sample();
        other.tensors.pop();
        let foreign = safetensors::serialize(
            other.tensors.iter().map(|t| {
                (
                    t.name.clone(),
                    TensorView::new(Dtype::F32, t.shape.clone(), bytemuck::cast_slice(&t.values)).unwrap(),
                )
            }),
            None,
        )
        .unwrap();
        assert!(message(&foreign).contains("names no Whetstone format"));
        let mut newer = bytes.clone();
        let at = newer
            .windows(FORMAT.len())
            .position(|w| w == FORMAT.as_bytes())
            .unwrap();
        newer[at..at + FORMAT.len()].copy_from_slice(b"whetstone-model/9");
        assert!(message(&newer).contains("format 'whetstone-model/9'"));
        assert!(message(&other.to_bytes().unwrap()).contains("no tensor 'layers.4.bias'"));
    }
}
