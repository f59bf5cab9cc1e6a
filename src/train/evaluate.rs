//! A model's loss, accuracy and probabilities on held-out data, and its predictions, in batches.

use super::*;

impl<B: Backend> Trainer<B> {
    pub async fn evaluate_validation(&mut self) -> Result<Evaluation, DeviceLost> {
        let (x, y, len) = (self.val.x.clone(), self.val.y.clone(), self.val.len);
        self.evaluate(&x, &y, len).await
    }

    pub(super) async fn evaluate(
        &mut self,
        x: &B::Tensor,
        y: &B::Tensor,
        len: usize,
    ) -> Result<Evaluation, DeviceLost> {
        let batch = self.eval_batch;
        let b = self.backend.clone();
        let mut tally = Tally::new();
        for start in (0..len).step_by(batch) {
            let indices: Vec<u32> = (start as u32..(start + batch).min(len) as u32).collect();
            let logits = self
                .model
                .forward(&b, self.model_input(b.gather_rows(x, &indices)), Mode::Eval);
            let out = b.softmax_cross_entropy(&logits, &b.gather_rows(y, &indices));
            tally.add(out.loss_sum, out.correct, indices.len());
        }
        let Totals { loss, correct, .. } = tally.take(&b).await?;
        Ok(Evaluation {
            loss: (loss / len as f64) as f32,
            accuracy: (correct / len as f64) as f32,
        })
    }

    /// Class probabilities of every held-out sample, `[n, classes]` row after row, in the split's
    /// order, read back in one transfer.
    pub async fn validation_probabilities(&mut self) -> Result<Vec<f32>, DeviceLost> {
        let batch = self.eval_batch;
        let b = self.backend.clone();
        let (x, len) = (self.val.x.clone(), self.val.len);
        let mut parts = Vec::new();
        for start in (0..len).step_by(batch) {
            let indices: Vec<u32> = (start as u32..(start + batch).min(len) as u32).collect();
            let logits = self
                .model
                .forward(&b, self.model_input(b.gather_rows(&x, &indices)), Mode::Eval);
            parts.push(b.softmax(&logits));
        }
        b.read(&b.concat(&parts.iter().collect::<Vec<_>>())).await
    }

    /// Class probabilities `[n, classes]`, row after row, for `n` samples laid out like the data
    /// (before the feature transform, which is applied here; a table's missing values are NaN).
    pub async fn predict(&mut self, features: &[f32]) -> Result<Vec<f32>, Error> {
        let input = &self.features.input_shape;
        let width: usize = input.iter().product();
        if features.is_empty() || !features.len().is_multiple_of(width) {
            return Err(Error::InvalidData(format!(
                "{} values are not a whole number of samples of shape {input:?}",
                features.len()
            )));
        }
        let n = features.len() / width;
        let values = self.features.apply_values(features);
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidData(format!(
                "sample {} has a value that is not a finite number",
                i / (values.len() / n)
            )));
        }
        let mut shape = vec![n];
        shape.extend(if self.features.columns.is_empty() {
            input.clone()
        } else {
            vec![values.len() / n]
        });
        let b = self.backend.clone();
        let logits = self
            .model
            .forward(&b, self.model_input(b.upload(&values, &shape)), Mode::Eval);
        Ok(b.read(&b.softmax(&logits)).await?)
    }

    /// The attention weights each attention layer gave the samples `predict` last read: per layer,
    /// its shape `[n, heads, steps, steps]` and values.
    pub async fn attention_maps(&self) -> Result<Vec<(Vec<usize>, Vec<f32>)>, Error> {
        let mut maps = Vec::new();
        for w in self.model.attention_weights() {
            maps.push((B::shape(&w), self.backend.read(&w).await?));
        }
        Ok(maps)
    }
}
