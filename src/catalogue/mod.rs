//! What the core offers, described once for the page: the layer kinds with their settings, the
//! optimisers, the learning-rate schedules, the augmentations, the feature transforms
//! (`features.rs`), the metrics (`metrics.rs`) and what a search can vary (`search.rs`). The page
//! renders its layer editor, menus, augmentation, feature and search-space editors and its metric
//! tables from this, so a new layer or schedule is a change here and in the core, never in the
//! page. Each entry's defaults are what a new one starts with in an editor; every entry is checked
//! (in the tests) to be read by the core as it is described.

mod features;
mod metrics;
mod search;

pub use features::{features, FeatureTransforms};
pub use metrics::{metrics, Format, Metrics, Score, Summary};
pub use search::{search_space, Searchable};

use crate::augment::{Kind, Works};
use serde::Serialize;
use serde_json::{json, Value};

/// The kind of value a setting takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// A whole number.
    Integer,
    /// Any number.
    Number,
    /// On or off.
    Boolean,
    /// Whole numbers, written separated by commas.
    List,
    /// One of the field's `choices`.
    Choice,
    /// A set of the data's numeric columns, by name.
    Columns,
}

/// One value of a [`FieldKind::Choice`] field: as the core reads it, and as the page names it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

/// One setting of a layer, optimiser, schedule or augmentation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    pub default: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    pub doc: &'static str,
}

impl Field {
    pub(crate) fn new(
        name: &'static str,
        label: &'static str,
        kind: FieldKind,
        default: Value,
        doc: &'static str,
    ) -> Self {
        Self {
            name,
            label,
            kind,
            default,
            min: None,
            max: None,
            choices: Vec::new(),
            doc,
        }
    }

    pub(crate) fn range(mut self, min: f64, max: Option<f64>) -> Self {
        self.min = Some(min);
        self.max = max;
        self
    }
}

/// A menu of `choices` (value, label), the first being the default.
pub(crate) fn choice(
    name: &'static str,
    label: &'static str,
    choices: &[(&'static str, &'static str)],
    doc: &'static str,
) -> Field {
    let mut field = Field::new(name, label, FieldKind::Choice, json!(choices[0].0), doc);
    field.choices = choices.iter().map(|&(value, label)| Choice { value, label }).collect();
    field
}

pub(crate) fn boolean(name: &'static str, label: &'static str, doc: &'static str) -> Field {
    Field::new(name, label, FieldKind::Boolean, json!(false), doc)
}

pub(crate) fn integer(name: &'static str, label: &'static str, default: usize, min: f64, doc: &'static str) -> Field {
    Field::new(name, label, FieldKind::Integer, json!(default), doc).range(min, None)
}

pub(crate) fn number(name: &'static str, label: &'static str, default: f64, doc: &'static str) -> Field {
    Field::new(name, label, FieldKind::Number, json!(default), doc)
}

/// One choice of a menu (an optimiser, a schedule, a layer kind): its name as the core reads it,
/// how the page names it, a line on what it does and its settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    pub name: &'static str,
    pub label: &'static str,
    pub doc: &'static str,
    pub fields: Vec<Field>,
}

/// A layer kind: its entry, and whether it has weights a penalty and freezing apply to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerKind {
    #[serde(flatten)]
    pub entry: Entry,
    pub weighted: bool,
}

/// An augmentation: its entry (its strength, if it has one, is its one field), and the data it
/// works on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AugmentationKind {
    #[serde(flatten)]
    pub entry: Entry,
    pub works: Works,
}

/// An optimiser as the page's menu offers it: `config` is what the core reads, but the rate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Optimizer {
    pub name: &'static str,
    pub label: &'static str,
    pub doc: &'static str,
    pub config: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Catalogue {
    pub layers: Vec<LayerKind>,
    pub optimizers: Vec<Optimizer>,
    pub schedules: Vec<Entry>,
    pub augmentations: Vec<AugmentationKind>,
    pub features: FeatureTransforms,
    pub metrics: Metrics,
    pub search: Vec<Searchable>,
    pub limits: Limits,
}

/// The limits the core holds a run to, for the page to state beside its fields.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Limits {
    pub epochs: usize,
    /// The largest layer size or axis.
    pub size: usize,
    pub params: u64,
}

fn entry(name: &'static str, label: &'static str, doc: &'static str, fields: Vec<Field>) -> Entry {
    Entry {
        name,
        label,
        doc,
        fields,
    }
}

pub(crate) fn layer(name: &'static str, doc: &'static str, weighted: bool, fields: Vec<Field>) -> LayerKind {
    LayerKind {
        entry: entry(name, name, doc, fields),
        weighted,
    }
}

/// The layer kinds, in the order the editor offers them (each described in its own file of
/// `nn`).
pub fn layers() -> Vec<LayerKind> {
    crate::nn::LayerSpec::kinds()
}

/// A layer's output size.
pub(crate) fn units(default: usize) -> Field {
    integer("units", "units", default, 1.0, "output features")
}

/// The optimisers of the page's menu (Nesterov is momentum with its look-ahead).
pub fn optimizers() -> Vec<Optimizer> {
    let optimizer = |name, label, doc, config| Optimizer {
        name,
        label,
        doc,
        config,
    };
    vec![
        optimizer("adam", "Adam", "adaptive moments", json!({"type": "adam"})),
        optimizer(
            "adamw",
            "AdamW (weight decay 0.01)",
            "Adam with decoupled weight decay",
            json!({"type": "adamw", "weight_decay": 0.01}),
        ),
        optimizer(
            "rmsprop",
            "RMSprop",
            "a running mean of squared gradients",
            json!({"type": "rmsprop"}),
        ),
        optimizer(
            "momentum",
            "SGD + momentum",
            "gradient descent with a velocity",
            json!({"type": "momentum", "momentum": 0.9}),
        ),
        optimizer(
            "nesterov",
            "SGD + Nesterov",
            "momentum that looks ahead",
            json!({"type": "momentum", "momentum": 0.9, "nesterov": true}),
        ),
        optimizer("sgd", "SGD", "plain gradient descent", json!({"type": "sgd"})),
    ]
}

/// The learning-rate schedules, each with the settings the page edits.
pub fn schedules() -> Vec<Entry> {
    let min_lr = number("min_lr", "Down to rate", 0.0, "the lowest rate").range(0.0, None);
    vec![
        entry("constant", "Constant", "the same rate throughout", vec![]),
        entry(
            "step",
            "Step decay",
            "the rate multiplied by gamma every few epochs",
            vec![
                integer("every", "Every (epochs)", 1, 1.0, "epochs between cuts"),
                number("gamma", "Multiply rate by", 0.5, "the factor of each cut"),
            ],
        ),
        entry(
            "exponential",
            "Exponential decay",
            "the rate multiplied by gamma per epoch, step by step",
            vec![number("gamma", "Per epoch, multiply by", 0.7, "the factor per epoch")],
        ),
        entry(
            "cosine",
            "Cosine",
            "half a cosine down over the run",
            vec![min_lr.clone()],
        ),
        entry(
            "cosine_restarts",
            "Cosine with restarts",
            "cosine cycles, each longer than the last",
            vec![
                integer("period", "First cycle (epochs)", 1, 1.0, "the first cycle's length"),
                integer(
                    "mult",
                    "Each cycle longer by ×",
                    2,
                    1.0,
                    "how much longer each next cycle is",
                ),
                min_lr,
            ],
        ),
        entry(
            "one_cycle",
            "One-cycle (rate is the peak)",
            "up to the rate, then down",
            vec![number(
                "pct_start",
                "Rising share of the run",
                0.3,
                "the share of the run spent rising",
            )
            .range(0.0, Some(1.0))],
        ),
        entry(
            "reduce_on_plateau",
            "Reduce on plateau",
            "cut when the validation loss stalls",
            vec![
                number("factor", "Multiply rate by", 0.5, "the factor of each cut"),
                integer("patience", "After epochs without progress", 1, 1.0, "epochs to wait"),
            ],
        ),
    ]
}

/// The augmentations, with their strength (and its default) where they have one.
pub fn augmentations() -> Vec<AugmentationKind> {
    use Kind::*;
    let kinds = [
        (
            FlipHorizontal,
            "horizontal flip",
            0.0,
            "mirrors the image left to right",
        ),
        (FlipVertical, "vertical flip", 0.0, "mirrors the image top to bottom"),
        (Rotate, "rotation (°)", 15.0, "turns by up to ± this many degrees"),
        (Scale, "scale (±)", 0.1, "zooms by a factor in 1 ± this"),
        (
            Translate,
            "shift (± width)",
            0.1,
            "shifts by up to ± this share of the side",
        ),
        (
            Crop,
            "random crop",
            0.2,
            "crops up to this share of each side and resizes back",
        ),
        (Brightness, "brightness (±)", 0.2, "adds up to ± this to every value"),
        (Contrast, "contrast (±)", 0.3, "scales contrast by a factor in 1 ± this"),
        (
            Saturation,
            "saturation (±)",
            0.5,
            "scales colour saturation by a factor in 1 ± this",
        ),
        (Hue, "hue (°)", 180.0, "turns the hue by up to ± this many degrees"),
        (
            Noise,
            "noise (std)",
            0.05,
            "adds Gaussian noise of this standard deviation",
        ),
        (
            Cutout,
            "cutout (side)",
            0.25,
            "blanks a square of this share of the side",
        ),
        (
            Mixup,
            "mixup (α)",
            0.2,
            "mixes pairs of samples and their labels, λ ~ Beta(α, α)",
        ),
        (
            DeleteTokens,
            "token deletion (rate)",
            0.1,
            "leaves out each character or word with this probability",
        ),
        (
            SwapTokens,
            "token swap (rate)",
            0.1,
            "swaps each character or word with the next with this probability",
        ),
        (
            InsertTokens,
            "token insertion (rate)",
            0.1,
            "puts a random character or word of the vocabulary before each with this probability",
        ),
        (
            MaskTokens,
            "token masking (rate)",
            0.1,
            "replaces each character or word by the unknown token with this probability",
        ),
    ];
    kinds
        .into_iter()
        .map(|(kind, label, default, doc)| {
            let fields = kind
                .strength()
                .map(|(strength, max)| vec![number(strength, strength, default, doc).range(0.0, Some(f64::from(max)))])
                .unwrap_or_default();
            AugmentationKind {
                entry: entry(kind.name(), label, doc, fields),
                works: kind.works(),
            }
        })
        .collect()
}

/// Everything above, as the page reads it.
pub fn catalogue() -> Catalogue {
    Catalogue {
        layers: layers(),
        optimizers: optimizers(),
        schedules: schedules(),
        augmentations: augmentations(),
        features: features(),
        metrics: metrics(),
        search: search_space(),
        limits: Limits {
            epochs: crate::train::MAX_EPOCHS,
            size: crate::nn::MAX_SIZE,
            params: crate::nn::MAX_PARAMS,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::augment::Augmentation;
    use crate::nn::LayerSpec;
    use crate::optim::schedule::Schedule;
    use crate::optim::OptimizerSpec;

    /// An entry's settings at their defaults, as a JSON object with the entry's `type`.
    pub(super) fn with_defaults(name: &str, fields: &[Field]) -> Value {
        let mut object = serde_json::Map::new();
        object.insert("type".into(), json!(name));
        for f in fields {
            object.insert(f.name.into(), f.default.clone());
        }
        Value::Object(object)
    }

    #[test]
    fn every_layer_kind_is_read_by_the_core_with_its_defaults() {
        for kind in layers() {
            let mut value = with_defaults(kind.entry.name, &kind.entry.fields);
            if kind.entry.name == "residual" {
                value["layers"] = json!([{"type": "relu"}]);
            }
            let spec: LayerSpec = serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{value}: {e}"));
            assert_eq!(spec.kind(), kind.entry.name);
        }
    }

    #[test]
    fn every_optimizer_schedule_and_augmentation_is_read_by_the_core() {
        for o in optimizers() {
            let mut config = o.config.clone();
            config["lr"] = json!(0.01);
            let spec: OptimizerSpec = serde_json::from_value(config).unwrap();
            spec.validate().unwrap();
        }
        for s in schedules() {
            let schedule: Schedule = serde_json::from_value(with_defaults(s.name, &s.fields)).unwrap();
            schedule.validate(0.01).unwrap();
        }
        for AugmentationKind { entry: a, .. } in augmentations() {
            let mut value = with_defaults(a.name, &a.fields);
            value["p"] = json!(0.5);
            let op: Augmentation = serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{value}: {e}"));
            assert_eq!(op.kind.name(), a.name);
        }
    }

    #[test]
    fn names_are_unique_and_labelled() {
        let names: Vec<&str> = layers().iter().map(|l| l.entry.name).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        assert!(schedules().iter().all(|s| !s.label.is_empty()));
        assert_eq!(optimizers().len(), 6);
    }
}
