//! Data sets held on the host, and their splits.

pub mod csv;
pub mod mnist;
pub mod quality;
pub mod sampling;
pub mod sequence;
pub mod shapes;
pub mod tabular;
pub mod text;
pub mod toy;

use crate::error::Error;

/// Labelled samples of one shape. `features` holds `len() × sample_shape.product()` values, sample
/// after sample; labels are class indices into `classes`. A table read from CSV also describes its
/// `columns` (one per feature), and may have missing values (NaN), which a feature transform fills
/// in before training; every other data set is finite.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub sample_shape: Vec<usize>,
    pub features: Vec<f32>,
    pub labels: Vec<u32>,
    pub classes: Vec<String>,
    pub columns: Vec<Column>,
}

/// A table's column: numeric, or categorical with its categories (a value is the index of its
/// category).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
}

impl Column {
    pub fn is_categorical(&self) -> bool {
        !self.categories.is_empty()
    }
}

impl Dataset {
    pub fn new(
        sample_shape: Vec<usize>,
        features: Vec<f32>,
        labels: Vec<u32>,
        classes: Vec<String>,
    ) -> Result<Self, Error> {
        let width: usize = sample_shape.iter().product();
        if width == 0 {
            return Err(Error::InvalidData(format!(
                "sample shape {sample_shape:?} has no elements"
            )));
        }
        if features.len() != labels.len() * width {
            return Err(Error::InvalidData(format!(
                "{} values do not make {} samples of shape {sample_shape:?}",
                features.len(),
                labels.len()
            )));
        }
        if let Some(bad) = labels.iter().find(|&&l| l as usize >= classes.len()) {
            return Err(Error::InvalidData(format!(
                "label {bad} is not one of the {} classes",
                classes.len()
            )));
        }
        if let Some(i) = features.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidData(format!(
                "sample {} has a value that is not a finite number",
                i / width
            )));
        }
        Ok(Self {
            sample_shape,
            features,
            labels,
            classes,
            columns: Vec::new(),
        })
    }

    /// True when some value is missing (only a table's can be).
    pub fn has_missing(&self) -> bool {
        self.features.iter().any(|v| v.is_nan())
    }

    /// A table without the columns `drop` (indices into `columns`).
    pub fn without_columns(&self, drop: &[usize]) -> Result<Dataset, Error> {
        if self.columns.is_empty() {
            return Err(Error::InvalidData("only a table's columns can be dropped".into()));
        }
        let keep: Vec<usize> = (0..self.columns.len()).filter(|c| !drop.contains(c)).collect();
        if keep.is_empty() {
            return Err(Error::InvalidData(
                "dropping every column would leave nothing to learn from".into(),
            ));
        }
        let w = self.sample_width();
        let features = self
            .features
            .chunks(w)
            .flat_map(|row| keep.iter().map(move |&c| row[c]))
            .collect();
        let columns = keep.iter().map(|&c| self.columns[c].clone()).collect();
        Ok(Dataset {
            sample_shape: vec![keep.len()],
            features,
            labels: self.labels.clone(),
            classes: self.classes.clone(),
            columns,
        })
    }

    /// The samples other than `drop` (indices), in order.
    pub fn without(&self, drop: &[usize]) -> Dataset {
        let mut dropped = vec![false; self.len()];
        drop.iter()
            .filter(|&&i| i < self.len())
            .for_each(|&i| dropped[i] = true);
        self.subset(&(0..self.len()).filter(|&i| !dropped[i]).collect::<Vec<_>>())
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn sample_width(&self) -> usize {
        self.sample_shape.iter().product()
    }

    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let w = self.sample_width();
        let mut features = Vec::with_capacity(indices.len() * w);
        for &i in indices {
            features.extend_from_slice(&self.features[i * w..(i + 1) * w]);
        }
        Dataset {
            sample_shape: self.sample_shape.clone(),
            features,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            classes: self.classes.clone(),
            columns: self.columns.clone(),
        }
    }

    /// The first `n` samples (the built-in sets interleave their classes, so any prefix is balanced).
    pub fn head(&self, n: usize) -> Result<Dataset, Error> {
        if n < 2 || n > self.len() {
            return Err(Error::InvalidConfig(format!(
                "use between 2 and {} samples of this data set, not {n}",
                self.len()
            )));
        }
        Ok(self.subset(&(0..n).collect::<Vec<_>>()))
    }

    /// The samples of the classes `keep` (indices into `classes`), relabelled 0.. in that order.
    pub fn only_classes(&self, keep: &[usize]) -> Result<Dataset, Error> {
        if keep.is_empty() || keep.iter().any(|&k| k >= self.classes.len()) {
            return Err(Error::InvalidConfig(format!(
                "choose classes among 0 to {}, got {keep:?}",
                self.classes.len() - 1
            )));
        }
        let indices: Vec<usize> = (0..self.len())
            .filter(|&i| keep.contains(&(self.labels[i] as usize)))
            .collect();
        let mut d = self.subset(&indices);
        d.labels = d
            .labels
            .iter()
            .map(|&l| keep.iter().position(|&k| k == l as usize).expect("kept") as u32)
            .collect();
        d.classes = keep.iter().map(|&k| self.classes[k].clone()).collect();
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_classes_keeps_and_relabels_in_the_given_order() {
        let names = ["a", "b", "c"].map(String::from).to_vec();
        let d = Dataset::new(vec![1], vec![0.0, 1.0, 2.0, 3.0, 4.0], vec![0, 1, 2, 1, 0], names).unwrap();
        let kept = d.only_classes(&[2, 0]).unwrap();
        assert_eq!(kept.features, [0.0, 2.0, 4.0]);
        assert_eq!(kept.labels, [1, 0, 1]);
        assert_eq!(kept.classes, ["c", "a"]);
        assert!(d.only_classes(&[3]).is_err());
    }

    fn tiny() -> Dataset {
        Dataset::new(
            vec![2],
            (0..20).map(|v| v as f32).collect(),
            (0..10).map(|i| i % 2).collect(),
            vec!["a".into(), "b".into()],
        )
        .unwrap()
    }

    #[test]
    fn head_takes_a_prefix() {
        let d = tiny();
        let h = d.head(4).unwrap();
        assert_eq!(h.labels, vec![0, 1, 0, 1]);
        assert_eq!(h.features, (0..8).map(|v| v as f32).collect::<Vec<_>>());
        assert!(d.head(11).unwrap_err().to_string().contains("between 2 and 10"));
        assert!(d.head(1).is_err());
    }

    #[test]
    fn a_table_drops_columns_but_not_all_of_them() {
        let t = tabular::from_csv("a,b,c,label\n1,x,3,p\n4,y,,q\n", None).unwrap().data;
        let d = t.without_columns(&[0, 2]).unwrap();
        assert_eq!((d.sample_shape.clone(), d.features.clone()), (vec![1], vec![0.0, 1.0]));
        assert_eq!(d.columns[0].name, "b");
        assert!(t.without_columns(&[0, 1, 2]).is_err());
        assert!(tiny().without_columns(&[0]).is_err());
    }

    #[test]
    fn rejects_inconsistent_data() {
        let two = || vec!["a".to_string(), "b".to_string()];
        assert!(Dataset::new(vec![2], vec![1.0; 5], vec![0, 1], two()).is_err());
        assert!(Dataset::new(vec![2], vec![1.0; 4], vec![0, 2], two()).is_err());
        assert!(Dataset::new(vec![2], vec![1.0, f32::NAN, 0.0, 0.0], vec![0, 1], two()).is_err());
    }
}
